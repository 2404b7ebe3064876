/**
 * Whatever was thrown, as an Error. Code that logs or reports a failure then
 * handles one type, and a log line carries `{ err }` with its stack (pino's
 * error serializer) rather than a bare message. A thrown non-Error becomes
 * the message of a new one.
 */
/** The first line of what was thrown: for a log message that a multi-line error must not spread over several. */
export function firstLine(value: unknown): string {
  return toError(value).message.split('\n', 1)[0] ?? '';
}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value) ?? String(value));
  } catch {
    // A cyclic object or a BigInt: its String() form is all there is.
    return new Error(String(value));
  }
}
