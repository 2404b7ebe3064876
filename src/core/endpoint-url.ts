/**
 * The rules for a URL we send a secret to (the API key in a header, a webhook
 * token in the path), shared by the environment (config.ts) and the
 * monitor configuration file (monitor-config.ts). A problem is the text that follows
 * the name of what was checked ("SLACK_WEBHOOK_URL", "routes[1].webhookUrl"),
 * and it never repeats the value, at most its scheme, host and path when the
 * caller says they are not secret.
 */

export type EndpointCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly problem: string };

/** 127.0.0.0/8, localhost and [::1]: where plain http cannot be read by anyone else. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * An HTTP endpoint we send a secret to: https, or plain http on loopback only
 * (tests, the demo). No userinfo, query or fragment: those end up in logs,
 * /readyz and Redis. `accepts` completes "must be …" when the value is no
 * http(s) URL at all; `showPath` allows scheme, host and path in the problem.
 */
export function checkEndpointUrl(raw: string, accepts: string, showPath: boolean): EndpointCheck {
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    return { ok: false, problem: `must be ${accepts} (value hidden)` };
  }
  const shown = showPath ? `, got ${parsed.protocol}//${parsed.host}${parsed.pathname}` : ' (value hidden)';
  if (parsed.username !== '' || parsed.password !== '') {
    return {
      ok: false,
      problem: `must not carry a user name or password (user:password@host); it is sent in logs and messages${showPath ? `, got ${parsed.protocol}//…@${parsed.host}${parsed.pathname}` : ' (value hidden)'}`,
    };
  }
  if (parsed.href.includes('?') || parsed.href.includes('#')) {
    return { ok: false, problem: `must have no query (?…) or fragment (#…)${shown}` };
  }
  if (parsed.protocol !== 'https:' && !isLoopbackHost(parsed.hostname)) {
    return { ok: false, problem: `must use https:// (http:// only on 127.0.0.1, localhost or [::1])${shown}` };
  }
  return { ok: true, url: parsed };
}

/**
 * A Slack incoming webhook URL, whose path is the secret: an endpoint as
 * above, on https://hooks.slack.com/services/…, or on loopback, or on any
 * host when `allowAnyHost` (SLACK_WEBHOOK_ALLOW_ANY_HOST=true: a
 * Slack-compatible receiver or an egress proxy).
 */
export function checkSlackWebhookUrl(raw: string, allowAnyHost: boolean): EndpointCheck {
  const checked = checkEndpointUrl(raw, 'a Slack incoming webhook URL, https://hooks.slack.com/services/…', false);
  if (!checked.ok) return checked;
  const { url } = checked;
  const slackHook = url.protocol === 'https:' && url.host === 'hooks.slack.com' && url.pathname.startsWith('/services/');
  if (slackHook || isLoopbackHost(url.hostname) || allowAnyHost) return checked;
  return {
    ok: false,
    problem:
      'must be https://hooks.slack.com/services/… (set SLACK_WEBHOOK_ALLOW_ANY_HOST=true for a Slack-compatible receiver or an egress proxy); value hidden',
  };
}
