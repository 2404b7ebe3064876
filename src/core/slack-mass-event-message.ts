/**
 * Renders an alert digest that holds a mass event (AlertNotification.mass):
 * many installations of one integration flipped in one poll, so the message
 * says so once, with counts by condition and provider and a sample, and hints
 * that the provider or Ampersand itself may be down. The events of the same
 * poll that are not part of a mass event (reminders, a few recoveries) follow
 * as one line each, within the digest's budget (alert-notification.ts), then
 * "+N more". Pure.
 *
 * A digest without a mass event renders here too, as those lines only: the
 * compact form, until the digest renderer of the poll plan's alerts takes it.
 */
import type { AlertEventItem, AlertNotification, MassEvent } from './alert-notification.js';
import type { Condition } from './alert-state.js';
import { CONDITION_WORDS, conditionCounts, formatCount as count } from './condition-words.js';
import {
  MESSAGE_LIMITS,
  context,
  fitText,
  header,
  mrkdwnValue as v,
  refNote,
  section,
  truncate,
  escapeMrkdwn,
  type SlackBlock,
  type SlackMessage,
} from './slack-blocks.js';
import { formatDuration, formatUtc, slackDateToken } from './slack-time.js';

/** An ISO time as a date token, or as the text it is when it is not a time. */
const tokenOf = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? v(iso) : slackDateToken(ms);
};

const plainTimeOf = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatUtc(ms);
};

const integrationLabel = (n: AlertNotification): string =>
  n.integrationName === undefined || n.integrationName === '' ? `\`${v(n.integrationId)}\`` : `*${v(n.integrationName)}* (\`${v(n.integrationId)}\`)`;

const plainIntegration = (n: AlertNotification): string =>
  n.integrationName === undefined || n.integrationName === '' ? n.integrationId : `${truncate(n.integrationName, 60)} (${truncate(n.integrationId, 60)})`;

function providerCounts(mass: MassEvent, show: (s: string) => string): string {
  const listed = mass.providers.map((p) => `${show(p.provider)} ${count(p.installations)}`);
  if (mass.otherProviders > 0) listed.push(`other providers ${count(mass.otherProviders)}`);
  return listed.join(' · ');
}

function sampleInstallation(it: AlertEventItem): string {
  const group = it.groupName === '' && it.groupRef === '' ? 'no group' : `${v(it.groupName)} \`${v(it.groupRef)}\``;
  return `\`${v(it.installationId)}\` (${group})`;
}

/** The provider(s) to name in the hint: the one provider, or "the providers". */
function providerHint(mass: MassEvent): string {
  const [only, ...others] = mass.providers;
  return only !== undefined && others.length === 0 && mass.otherProviders === 0 ? `the provider (${v(only.provider)})` : 'the providers';
}

/** The summary section of one mass event. */
function massSection(n: AlertNotification, mass: MassEvent): string {
  const share = `*${count(mass.installations)} of ${count(n.installations)} installations*`;
  const sinceToken = mass.since === null ? undefined : slackDateToken(mass.since);
  const lead =
    mass.event === 'fire'
      ? `:rotating_light: ${share} of ${integrationLabel(n)} started failing in one poll${sinceToken === undefined ? '' : `, since ${sinceToken}`}.`
      : `:large_green_circle: ${share} of ${integrationLabel(n)} recovered in one poll${
          mass.since !== null && mass.endedAt !== undefined
            ? `: the problem lasted ${formatDuration(mass.endedAt - mass.since)}, since ${sinceToken ?? ''}`
            : ''
        }.`;
  const shownSample = mass.sample.map(sampleInstallation).join(' · ');
  const more = mass.installations - mass.sample.length;
  const lines = [
    lead,
    `*By condition:* ${conditionCounts(mass.conditions)}`,
    `*By provider:* ${providerCounts(mass, v)}`,
    `*Sample:* ${shownSample}${more > 0 ? ` and ${count(more)} more` : ''}`,
  ];
  if (mass.event === 'fire') {
    lines.push(
      `:mag: So many at once points at ${providerHint(mass)} or at Ampersand itself, not at each customer: check the provider's status and Ampersand's before contacting customers.`,
    );
  }
  return lines.join('\n');
}

function massText(n: AlertNotification, mass: MassEvent): string {
  const counts = conditionCounts(mass.conditions, ', ');
  const share = `${count(mass.installations)} of ${count(n.installations)} installations`;
  return mass.event === 'fire'
    ? `${share} started failing in one poll (${counts}); the provider or Ampersand itself may be down`
    : `${share} recovered in one poll (${counts})${mass.since !== null && mass.endedAt !== undefined ? ` after ${formatDuration(mass.endedAt - mass.since)}` : ''}`;
}

const EVENT_MARK: Readonly<Record<AlertEventItem['event'], string>> = { fire: ':red_circle:', remind: ':bell:', resolve: ':large_green_circle:' };

/** A condition as one event says it: it fires, it still holds, it is over. */
const EVENT_WORDS: Readonly<Record<AlertEventItem['event'], Readonly<Record<Condition, string>>>> = {
  fire: CONDITION_WORDS,
  remind: { unhealthy: 'still unhealthy', operation_failing: 'last operation still failing', bad_credentials: 'credentials still rejected' },
  resolve: { unhealthy: 'healthy again', operation_failing: 'last operation succeeds again', bad_credentials: 'credentials work again' },
};

/** One event as one line, for the events a digest shows besides its mass events. */
function itemLine(it: AlertEventItem, detectedMs: number): string {
  const group = it.groupName === '' && it.groupRef === '' ? 'no group' : `group ${v(it.groupName)} \`${v(it.groupRef)}\``;
  const who = `\`${v(it.installationId)}\` (${group}, ${v(it.provider)})`;
  const since = it.since === null ? '' : `since ${slackDateToken(it.since)}`;
  if (it.event === 'fire') return `${EVENT_MARK.fire} ${who} ${EVENT_WORDS.fire[it.condition]}${since === '' ? '' : ` ${since}`}`;
  if (it.event === 'remind') {
    const lasting = it.since === null || Number.isNaN(detectedMs) ? '' : ` for ${formatDuration(detectedMs - it.since)}`;
    return `${EVENT_MARK.remind} ${who} ${EVENT_WORDS.remind[it.condition]}${lasting}${since === '' ? '' : `, ${since}`}`;
  }
  const ended = it.endedAt ?? detectedMs;
  const lasted = it.since === null || Number.isNaN(ended) ? '' : ` after ${formatDuration(ended - it.since)}`;
  const what = it.reason === 'removed' ? `no longer listed (was ${CONDITION_WORDS[it.condition]})` : EVENT_WORDS.resolve[it.condition];
  return `${EVENT_MARK.resolve} ${who} ${what}${lasted}${since === '' ? '' : `, ${since}`}`;
}

function plainItemLine(it: AlertEventItem): string {
  const group = it.groupName === '' && it.groupRef === '' ? 'no group' : `${it.groupName} ${it.groupRef}`;
  return `${it.installationId} (${group}, ${it.provider}) ${it.event === 'resolve' && it.reason === 'removed' ? 'no longer listed' : EVENT_WORDS[it.event][it.condition]}`;
}

function title(n: AlertNotification): string {
  const mass = n.mass ?? [];
  const fire = mass.find((m) => m.event === 'fire');
  const resolve = mass.find((m) => m.event === 'resolve');
  const name = truncate(n.integrationName === undefined || n.integrationName === '' ? n.integrationId : n.integrationName, 60);
  const of = `of ${count(n.installations)} installations`;
  if (fire !== undefined && resolve !== undefined)
    return `Mass event: ${count(fire.installations)} failing, ${count(resolve.installations)} recovered ${of} · ${name}`;
  if (fire !== undefined) return `Mass event: ${count(fire.installations)} ${of} failing · ${name}`;
  if (resolve !== undefined) return `Mass recovery: ${count(resolve.installations)} ${of} recovered · ${name}`;
  const events = n.items.length + n.omitted;
  return `${count(events)} alert event(s) · ${name}`;
}

const TAGS: Readonly<Record<AlertEventItem['event'], string>> = { fire: 'FIRING', remind: 'REMINDER', resolve: 'RESOLVED' };

function tag(n: AlertNotification): string {
  const parts = (n.mass ?? []).map((m) => `${m.event === 'fire' ? 'MASS FIRING' : 'MASS RESOLVED'}:${m.installations}`);
  for (const event of ['fire', 'remind', 'resolve'] as const) {
    const events = n.items.filter((it) => it.event === event).length;
    if (events > 0) parts.push(`${TAGS[event]}:${events}`);
  }
  return `[${parts.join(', ') || 'ALERTS'}]`;
}

/** Renders a digest with its mass events (if any) and its other events as one message within Slack's limits. */
export function renderMassEvent(n: AlertNotification, ref: string | undefined): SlackMessage {
  const mass = n.mass ?? [];
  const detectedMs = Date.parse(n.detectedAt);
  const blocks: SlackBlock[] = [header(escapeMrkdwn(title(n)))];
  for (const m of mass) blocks.push(section(massSection(n, m)));
  if (n.items.length > 0) {
    if (mass.length > 0) blocks.push(section('*Also in this poll:*'));
    for (const it of n.items) blocks.push(section(itemLine(it, detectedMs)));
  }
  if (n.omitted > 0)
    blocks.push(context(`+${count(n.omitted)} more event(s) of this poll not shown. The status page and \`/metrics\` list every installation.`));
  const merged =
    n.coalesced === undefined || n.coalesced.digests < 2
      ? ''
      : ` · merged from ${count(n.coalesced.digests)} polls since ${tokenOf(n.coalesced.firstDetectedAt)} while waiting to be sent`;
  blocks.push(context(`Project \`${v(n.projectId)}\` · integration \`${v(n.integrationId)}\` · detected ${tokenOf(n.detectedAt)}${merged}${refNote(ref)}`));

  const prefix = `${tag(n)} Ampersand integration ${escapeMrkdwn(plainIntegration(n))}:`;
  const textParts = [...mass.map((m) => escapeMrkdwn(massText(n, m))), ...n.items.map((it) => escapeMrkdwn(plainItemLine(it)))];
  if (n.omitted > 0) textParts.push(`+${count(n.omitted)} more`);
  const plainParts = [
    ...mass.map((m) =>
      escapeMrkdwn(
        `${massText(n, m)}${m.since === null ? '' : `, since ${formatUtc(m.since)}`}; sample: ${m.sample.map((it) => it.installationId).join(', ')}`,
      ),
    ),
    ...textParts.slice(mass.length),
    escapeMrkdwn(`detected ${plainTimeOf(n.detectedAt)}`),
  ];
  return {
    text: fitText(textParts, prefix),
    blocks: blocks.slice(0, MESSAGE_LIMITS.blocks),
    plainText: fitText(plainParts, prefix, MESSAGE_LIMITS.plainText - refNote(ref).length) + refNote(ref),
  };
}
