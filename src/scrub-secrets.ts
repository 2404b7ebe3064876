/**
 * The last line of defence for text that leaves the process unstructured (the
 * fatal line on stderr): every form of the secrets in the environment is cut
 * out of it, whatever error produced it. Adapters keep secrets out of their
 * errors in the first place; this catches what a library put there
 * (`Headers.append: "<key>" is an invalid header value`, an echoed webhook path).
 */

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
export function secretsIn(env: Readonly<Record<string, string | undefined>>): string[] {
  const whole: string[] = [];
  const pieces: string[] = [];
  const key = env['AMPERSAND_API_KEY'];
  if (key !== undefined) {
    whole.push(key, key.trim());
    // A key with a line break or control character may be printed in pieces, or escaped.
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
  const redisPassword = parseUrl(env['REDIS_URL']?.trim() ?? '')?.password;
  if (redisPassword !== undefined) whole.push(decoded(redisPassword));
  return [...whole.filter((s) => s.length >= MIN_SECRET), ...pieces.filter((s) => s.length >= MIN_FRAGMENT)];
}

/** `text` with every secret of `env` replaced by "[redacted]", in raw, JSON-escaped and URL-encoded forms. */
export function scrubSecrets(text: string, env: Readonly<Record<string, string | undefined>>): string {
  const forms = new Set<string>();
  for (const secret of secretsIn(env)) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so that a whole URL goes before its path cuts it in two.
  let scrubbed = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) scrubbed = scrubbed.split(form).join(REDACTED);
  return scrubbed;
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
