/**
 * The path of an HTTP request target, or undefined when the target is not one
 * this server can route. Accepted: origin-form (`/metrics?x`) whose path is an
 * RFC 3986 absolute-path, and absolute-form (`http://host/metrics`), which
 * RFC 9112 §3.2.2 says a server must accept. Everything else (`//`, `/\`,
 * `//[`, `*`, authority-form, control bytes) is undefined, so the caller answers
 * 400 instead of letting `new URL()` throw on it.
 */
export function requestPath(target: string): string | undefined {
  if (target.startsWith('/')) return ORIGIN_FORM.test(target) ? target.split('?', 1)[0] : undefined;
  if (!/^https?:\/\//i.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  // The parsed path is normalised and percent-encoded, so it passes the origin-form check.
  return ORIGIN_FORM.test(url.pathname) ? url.pathname : undefined;
}

// pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (RFC 3986 §3.3).
const PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})";
// absolute-path = "/" [ segment-nz *( "/" segment ) ]: "//" and "/\" are not paths.
const ORIGIN_FORM = new RegExp(`^/(?:${PCHAR}+(?:/${PCHAR}*)*)?(?:\\?(?:${PCHAR}|[/?])*)?$`);
