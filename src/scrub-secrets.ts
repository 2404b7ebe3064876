/**
 * The last line of defence for text that leaves the process unstructured (the
 * fatal line on stderr): every form of the secrets in the environment is cut
 * out of it, whatever error produced it. Adapters keep secrets out of their
 * errors in the first place; this catches what a library put there
 * (`Headers.append: "<key>" is an invalid header value`, an echoed webhook path).
 */

import { isClusterUrl, parseClusterUrl } from './core/redis-cluster-target.js';

const REDACTED = '[redacted]';
/**
 * Shorter strings are not cut out: a 1-character test key would turn every "k"
 * of the line into "[redacted]", and so short a value protects nothing anyway.
 * Whole values use the lower bound; pieces of them (a line of a multi-line key,
 * one path segment) the higher, as they are likelier to match ordinary words.
 */
const MIN_SECRET = 4;
const MIN_FRAGMENT = 6;

/** The strings to cut: AMPERSAND_API_KEY, SLACK_WEBHOOK_URL (and its path and path segments), the Redis password. */
function secretsIn(env: Readonly<Record<string, string | undefined>>): string[] {
  const whole: string[] = [];
  const pieces: string[] = [];
  const key = env['AMPERSAND_API_KEY'];
  if (key !== undefined) {
    whole.push(key, key.trim());
    // A key with a line break or control character may be printed in pieces, or escaped.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what it splits on
    pieces.push(...key.split(/[\s\u0000-\u001f\u007f]+/));
  }
  const webhook = env['SLACK_WEBHOOK_URL']?.trim();
  if (webhook !== undefined && webhook !== '') {
    whole.push(webhook);
    const parsed = parseUrl(webhook);
    if (parsed !== undefined) {
      // The token is in the path: a receiver that echoes it ("Cannot POST /services/T…/B…/…") shows no host.
      whole.push(parsed.pathname, parsed.search, decoded(parsed.password));
      // Short all-lowercase segments are words such as "services" or "hooks", not ids or tokens.
      pieces.push(...parsed.pathname.split('/').filter((segment) => !/^[a-z]{1,11}$/.test(segment)));
    }
  }
  const redisUrl = env['REDIS_URL']?.trim() ?? '';
  const redisPassword = parseUrl(redisUrl)?.password;
  if (redisPassword !== undefined) whole.push(decoded(redisPassword));
  // A redis+cluster:// URL with several hosts is no WHATWG URL; its own parser finds the password.
  const cluster = isClusterUrl(redisUrl) ? parseClusterUrl(redisUrl) : undefined;
  if (cluster?.ok === true && cluster.value.password !== undefined) whole.push(cluster.value.password);
  return [...whole.filter((s) => s.length >= MIN_SECRET), ...pieces.filter((s) => s.length >= MIN_FRAGMENT)];
}

/** `text` with every secret of `env` replaced by "[redacted]", in every form `createScrubber` knows. */
export function scrubSecrets(text: string, env: Readonly<Record<string, string | undefined>>, maxLength?: number): string {
  return createScrubber(secretsIn(env))(text, maxLength);
}

/**
 * Cuts secrets out of a text, then (if `maxLength` is given) shortens it to at most
 * that many characters. Scrubbing comes first, so a cut can never hide a secret from
 * the scrub; and a cut text never ends with the start of a secret (4 characters or
 * more), for text that someone else had already cut in the middle of one.
 */
export type Scrubber = (text: string, maxLength?: number) => string;

/**
 * One scrubber for the given secrets (empty strings ignored), matching each in the forms
 * a server or a library may print it: raw, JSON-escaped, URL-encoded (encodeURIComponent,
 * and form encoding with "+" for a space), with upper- or lower-case percent hex.
 */
export function createScrubber(secrets: readonly string[]): Scrubber {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    const encoded = [encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), ...encoded, ...encoded.map(lowerHex)]) forms.add(form);
  }
  // Longest first, so that a whole URL goes before its path cuts it in two.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  return (text, maxLength) => {
    let scrubbed = text;
    for (const form of sorted) scrubbed = scrubbed.split(form).join(REDACTED);
    if (maxLength === undefined || scrubbed.length <= maxLength) return scrubbed;
    return withoutTrailingPrefix(scrubbed.slice(0, Math.max(0, maxLength)), sorted);
  };
}

/** Shortest start of a secret that a cut text may not end with; shorter ones are too common to matter. */
const MIN_PARTIAL = 4;

/** `text` without any ending that is the start of one of `forms`, repeatedly (an ending may hide another). */
function withoutTrailingPrefix(text: string, forms: readonly string[]): string {
  let out = text;
  for (let changed = true; changed;) {
    changed = false;
    for (const form of forms) {
      for (let k = Math.min(form.length - 1, out.length); k >= MIN_PARTIAL; k -= 1) {
        if (out.endsWith(form.slice(0, k))) {
          out = out.slice(0, out.length - k);
          changed = true;
          break;
        }
      }
    }
  }
  return out;
}

function lowerHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
