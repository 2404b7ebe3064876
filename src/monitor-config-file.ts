/**
 * Reads the monitor configuration file: YAML or JSON (JSON is YAML 1.2, so one
 * parser reads both, and it refuses duplicate keys, which JSON.parse would
 * silently take the last of), then core/monitor-config.ts checks it. Every
 * problem is one line that starts with the file's path. src/load-config.ts
 * reads it at start when MONITOR_CONFIG names it.
 *
 * A problem never repeats text of the file beyond the keys and the values the
 * validator shows: the file may hold webhook URLs, and the parser's own
 * messages can quote the line they fail on, so they are cut before any quote.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { validateMonitorConfig, type MonitorConfigOptions, type MonitorConfigResult } from './core/monitor-config.js';

/** A configuration file larger than this is not one: most likely the wrong path. */
export const maxConfigFileBytes = 1024 * 1024;

/** The parser's message without the text it quotes from the file ("Not a YAML token: <the line>"). */
const withoutQuote = (message: string): string => message.split(': ')[0] ?? message;

/**
 * Reads, parses and checks the file at `path`. A file that cannot be read, is
 * too large, or is not valid YAML or JSON is a problem like any other, never
 * a throw, so the entry point can print them all and exit 2.
 */
export async function loadMonitorConfigFile(path: string, options: MonitorConfigOptions): Promise<MonitorConfigResult> {
  const fail = (...problems: string[]): MonitorConfigResult => ({ ok: false, problems: problems.map((p) => `${path}: ${p}`) });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'there is no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'unknown error');
    return fail(`cannot be read (${why}); the monitor configuration must be a YAML or JSON file`);
  }
  if (bytes.length > maxConfigFileBytes) return fail(`is ${bytes.length} bytes long, more than a configuration file of 1 MiB; is it the right file?`);
  const text = bytes.toString('utf8');

  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form appends the failing line of the file, which may hold a webhook URL.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return fail(
      ...doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `line ${line}, column ${col}: is not valid YAML or JSON (${withoutQuote(error.message)})`;
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    return fail(`is not valid YAML or JSON (${withoutQuote(error instanceof Error ? error.message : String(error))})`);
  }
  const result = validateMonitorConfig(value, options);
  return result.ok ? result : fail(...result.problems);
}
