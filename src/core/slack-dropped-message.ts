/**
 * Renders the notice that stands in for alert messages dropped because the
 * outbox was full (SLACK_OUTBOX_MAX). Pure. It says how many, since when, and
 * where the current state is: the metrics and the status page, which never
 * drop anything.
 */
import { formatCount } from './condition-words.js';
import type { DroppedNotification } from './notification.js';
import { context, header, refNote, section, type SlackMessage } from './slack-blocks.js';
import { formatUtc, slackDateToken } from './slack-time.js';

export function renderDroppedMessage(n: DroppedNotification, ref: string | undefined): SlackMessage {
  const count = formatCount(n.count);
  // A route name is checked (letters, digits, "_", ".", "-", or routes[i]): nothing in it needs escaping.
  const of = n.route === undefined ? '' : ` of route ${n.route}`;
  const text = `[DROPPED] ${count} alert message(s)${of} were dropped since ${formatUtc(n.sinceMs)}: the outbox was full (${formatCount(n.cap)} waiting); see /metrics`;
  const detected = Date.parse(n.detectedAt);
  return {
    text,
    plainText: text + refNote(ref),
    blocks: [
      header(`${count} alert message(s)${of} dropped`),
      section(
        [
          `*What:* Slack could not take alerts${of} as fast as they came, and ${n.route === undefined ? 'the outbox' : 'its outbox lane'} reached its cap of ${formatCount(n.cap)} messages (SLACK_OUTBOX_MAX), so the oldest ${count} alert message(s) were dropped, since ${slackDateToken(n.sinceMs)}. Messages about the monitor itself, recoveries and reminders are never dropped.`,
          '*What to do:* See the current state on the status page and in `/metrics` (`ampersand_installation_health_status`, `ampersand_slack_outbox_dropped_total`): they never drop anything. If Slack is paused, `/readyz` says why.',
        ].join('\n'),
      ),
      context(`Last dropped ${Number.isNaN(detected) ? 'at an unknown time' : slackDateToken(detected)}${refNote(ref)}`),
    ],
  };
}
