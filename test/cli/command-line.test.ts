import { describe, expect, it } from 'vitest';
import { commandDefinitions, mainHelp, parseCommandLine } from '../../src/cli/command-line.js';
import { UsageError } from '../../src/cli/usage-error.js';

/** The usage line a command line gets, or undefined when it parses. */
function usageError(argv: string[]): string | undefined {
  try {
    parseCommandLine(argv);
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
}

describe('parseCommandLine', () => {
  it('reads each command with its options', () => {
    expect(parseCommandLine(['status', '--unhealthy', '--integration', 'int-1', '--json'])).toEqual({
      kind: 'run',
      command: 'status',
      values: { unhealthy: true, integration: 'int-1', json: true },
      positionals: [],
    });
    expect(parseCommandLine(['check', '--no-redis'])).toMatchObject({ command: 'check', values: { 'no-redis': true } });
    expect(parseCommandLine(['dead-letters', 'replay', 'a', 'b'])).toMatchObject({ command: 'dead-letters replay', positionals: ['a', 'b'] });
    expect(parseCommandLine(['dead-letters', 'replay', '--', '--odd-id'])).toMatchObject({ positionals: ['--odd-id'] });
  });

  it('gives the help of the program, of a command and of dead-letters, wherever --help or -h is', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', text: mainHelp });
    expect(parseCommandLine(['check', '--json', '-h'])).toMatchObject({ kind: 'help', text: expect.stringContaining('Usage: ampersand-health-monitor check') });
    expect(parseCommandLine(['status', '--bogus', '--help'])).toMatchObject({ kind: 'help' });
    expect(parseCommandLine(['dead-letters', '--help'])).toMatchObject({ kind: 'help', text: expect.stringContaining('list     show them') });
  });

  it('lists every command in the main help, and no command that has not landed', () => {
    for (const { name } of commandDefinitions) expect(mainHelp).toContain(`  ${name} `);
    expect(mainHelp).toMatch(/\n {2}history +an installation's firing episodes/);
    expect(mainHelp).toMatch(/\n {2}silences +the silences and maintenance windows of MONITOR_CONFIG/);
    expect(mainHelp).not.toMatch(/silence (add|expire)/);
  });

  it.each([
    [[], 'ampersand-health-monitor: no command given; see ampersand-health-monitor --help'],
    [['stats'], 'ampersand-health-monitor: unknown command "stats"; see ampersand-health-monitor --help'],
    [['silence', 'add'], 'ampersand-health-monitor: unknown command "silence"; see ampersand-health-monitor --help'],
    [['--verbose'], 'ampersand-health-monitor: unknown option "--verbose"; see ampersand-health-monitor --help'],
    [['status', '--bogus'], "ampersand-health-monitor status: unknown option '--bogus'; see ampersand-health-monitor status --help"],
    [
      ['status', '--integration'],
      "ampersand-health-monitor status: option '--integration <value>' argument missing; see ampersand-health-monitor status --help",
    ],
    [['status', 'extra'], "ampersand-health-monitor status: unexpected argument 'extra'; see ampersand-health-monitor status --help"],
    [['check', '--json=yes'], "ampersand-health-monitor check: option '--json' does not take an argument; see ampersand-health-monitor check --help"],
    [['dead-letters'], 'ampersand-health-monitor dead-letters: no command given (list or replay); see ampersand-health-monitor dead-letters --help'],
    [
      ['dead-letters', 'purge'],
      'ampersand-health-monitor dead-letters: unknown command "purge" (list or replay); see ampersand-health-monitor dead-letters --help',
    ],
  ])('refuses %j with one line naming what is wrong and pointing at --help', (argv, line) => {
    expect(usageError(argv)).toBe(line);
  });

  it('keeps a hostile argument on the one line', () => {
    expect(usageError(['stat\u001b[2J\nus'])).toBe('ampersand-health-monitor: unknown command "stat us"; see ampersand-health-monitor --help');
  });
});
