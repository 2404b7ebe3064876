#!/usr/bin/env node
/**
 * The on-call CLI's composition root (the `bin` entry `ampersand-health-monitor`):
 * command line → configuration (the service's, exit 2 when bad) → the adapters
 * a command needs → the command, which returns the exit code. Like src/main.ts
 * it only wires: the commands take ports, and decide nothing about I/O.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createAmpersandClient } from '../adapters/ampersand-client.js';
import { createRedisStores } from '../adapters/redis/stores.js';
import { ConfigError, type Config, type Env } from '../config.js';
import { mutesAt, compileWindows } from '../core/silences.js';
import { loadConfig } from '../load-config.js';
import { toError } from '../core/errors/to-error.js';
import { createFatalHandler, installFatalHandlers } from '../fatal-handler.js';
import { createLogger } from '../logger.js';
import { serviceVersion } from '../service-version.js';
import { readCheckOptions, runCheck, type CheckBaseline } from './check.js';
import { programName, type CliIo } from './command-definition.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { readReplayTarget, runDeadLettersList, runDeadLettersReplay } from './dead-letters.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { lookUpIntegrationNames } from './integration-names.js';
import { openRedisSession, redisFailure, type RedisSession } from './redis-session.js';
import { readHistoryOptions, runHistory } from './history.js';
import { readSilencesOptions, runSilences } from './silences.js';
import { readStatusOptions, runStatus } from './status.js';
import { cell } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** API retries for a person waiting: fewer and shorter than the service's (3, up to 60 s each). */
const cliApiRetries = { retryLimit: 1, maxRetryDelayMs: 5000 } as const;

type Command = Extract<CommandLine, { kind: 'run' }>;

/** Runs `use` with a Redis session, closed afterwards; exit 3 with one line when Redis cannot be reached, or refuses or drops a command. */
async function withRedis(config: Config, io: CliIo, command: string, use: (session: RedisSession) => Promise<ExitCode>): Promise<ExitCode> {
  const session = await openRedisSession({ url: config.redisUrl, cluster: config.redisCluster, sentinel: config.redisSentinel });
  if ('unreachable' in session) {
    io.err(`${programName} ${command}: ${session.unreachable}. Is the service's Redis up, and REDIS_URL the same as the service's?\n`);
    return exitCodes.unreadable;
  }
  try {
    return await use(session);
  } catch (error) {
    return redisFailed(error, config, io, command);
  } finally {
    await session.close();
  }
}

/** Exit 3 with one line for a command Redis refused or dropped (not a bug: exit 4 is for those); rethrows anything else. */
function redisFailed(error: unknown, config: Config, io: CliIo, command: string): ExitCode {
  const failure = redisFailure(error);
  if (failure === undefined) throw error;
  io.err(`${programName} ${command}: ${failure}. Is REDIS_URL the service's Redis, and QUEUE_PREFIX=${config.queuePrefix} its prefix?\n`);
  return exitCodes.unreadable;
}

async function runCommand(line: Command, config: Config, io: CliIo): Promise<ExitCode> {
  const now = () => new Date();
  const prefix = config.queuePrefix;
  const stores = (session: RedisSession) => createRedisStores({ redis: session.redis, prefix, deadLetterMax: config.slack.deadLetterMax });
  // Logs (retries at debug) go to stderr, so stdout stays the report (or the JSON).
  // The first watched project: AMPERSAND_PROJECT_ID's, or the first of a MONITOR_CONFIG file's `projects` (which replace it).
  const firstProject = config.projects[0];
  const projectId = firstProject?.id ?? '';
  const apiClient = () => {
    const logger = createLogger(config.logLevel, pino.destination({ fd: 2, sync: true }));
    return createAmpersandClient({
      ...config.ampersand,
      projectId,
      groupRef: firstProject?.groupRef,
      ...cliApiRetries,
      logger: logger.child({ component: 'ampersand' }),
    });
  };
  const configuredRoutes = new Set((config.monitor?.routes ?? []).map((r) => r.name));
  const warn = (text: string) => io.err(`${programName} ${line.command}: ${text}\n`);
  // Without a project there is none to ask (loadConfig refuses that for the service; the CLI's usage test runs without one).
  const namesOf = async (): Promise<ReadonlyMap<string, string>> => {
    if (projectId !== '') return lookUpIntegrationNames(apiClient(), warn);
    warn('integration names not shown (no project: AMPERSAND_PROJECT_ID is not set); ids only');
    return new Map();
  };
  switch (line.command) {
    case 'status':
      return withRedis(config, io, line.command, async (session) =>
        runStatus(readStatusOptions(line.values), {
          snapshots: stores(session).snapshots,
          // What mutes each installation now, by the file's rules, as the service's poll judges it.
          mutesAt: (at) => mutesAt(config.monitor?.silences ?? [], compileWindows(config.monitor?.maintenance ?? []), at),
          names: await namesOf(),
          queuePrefix: prefix,
          now,
          io,
        }),
      );
    case 'check': {
      if (projectId === '') {
        io.err(`${programName} check: AMPERSAND_PROJECT_ID (or \`projects\` in the MONITOR_CONFIG file) is required: check reads the first watched project\n`);
        return exitCodes.usage;
      }
      const options = readCheckOptions(line.values);
      const ampersand = apiClient();
      const session = options.noRedis
        ? { unreachable: '--no-redis' }
        : await openRedisSession({ url: config.redisUrl, cluster: config.redisCluster, sentinel: config.redisSentinel });
      const baseline: CheckBaseline = 'unreachable' in session ? { unavailable: session.unreachable } : { snapshots: stores(session).snapshots };
      try {
        // The first watched project's integrations; none listed: discover.
        const integrationIds = firstProject?.integrationIds ?? [];
        return await runCheck(options, {
          ampersand,
          baseline,
          projectId,
          integrationIds,
          concurrency: config.pollConcurrency,
          policy: config.alerts.policy,
          muting: { silences: config.monitor?.silences ?? [], windows: compileWindows(config.monitor?.maintenance ?? []) },
          // check reports an API it cannot read itself, in one line: the names stay quiet about it.
          names: await lookUpIntegrationNames(ampersand, () => undefined),
          now,
          io,
        });
      } catch (error) {
        return redisFailed(error, config, io, line.command);
      } finally {
        if (!('unreachable' in session)) await session.close();
      }
    }
    case 'history': {
      const options = readHistoryOptions(line.values, line.positionals);
      return withRedis(config, io, line.command, async (session) =>
        runHistory(options, { snapshots: stores(session).snapshots, names: await namesOf(), now, io }),
      );
    }
    case 'silences':
      return runSilences(readSilencesOptions(line.values), { monitor: config.monitor, path: config.monitorConfigPath, now, io });
    case 'dead-letters list':
      return withRedis(config, io, line.command, (session) => runDeadLettersList(line.values, { outbox: stores(session).outbox, now, io }));
    case 'dead-letters replay': {
      const target = readReplayTarget(line.values, line.positionals);
      return withRedis(config, io, line.command, (session) =>
        runDeadLettersReplay(target, {
          outbox: stores(session).outbox,
          now,
          io,
          newToken: () => randomBytes(4).toString('hex'),
          pollIntervalMs: config.pollIntervalMs,
          // A route no longer in the file has no worker: its letters go back to the default lane, whose
          // delivery sends an entry of an unconfigured route to SLACK_WEBHOOK_URL, with a warning.
          lane: (route) => (configuredRoutes.has(route) ? stores(session).lane(route) : stores(session).outbox),
        }),
      );
    }
  }
}

/** The whole CLI: what `argv` asks for, under `env`, printed on `io`; resolves to the exit code. */
export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<ExitCode> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n`);
    return exitCodes.usage;
  }
  if (line.kind === 'help') {
    io.out(line.text);
    return exitCodes.ok;
  }
  if (line.kind === 'version') {
    io.out(`${programName} ${serviceVersion()}\n`);
    return exitCodes.ok;
  }
  // The service's loader: the environment and the monitor configuration file, each problem one line.
  const parsed = await loadConfig(env);
  if (parsed instanceof ConfigError) {
    io.err(`${parsed.message}\n`);
    return exitCodes.usage;
  }
  for (const warning of parsed.warnings) io.err(`${programName}: warning: ${warning}\n`);
  try {
    return await runCommand(line, parsed.config, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n`);
    return exitCodes.usage;
  }
}

/** One scrubbed `fatal:` line on stderr for whatever nobody caught; exit 4, so that cron tells a broken check from an unhealthy installation (1). */
const fatal = createFatalHandler({ write: (line) => process.stderr.write(line), exit: () => process.exit(exitCodes.internal), env: process.env });

/**
 * Loads ./.env into process.env if there is one; returns the line to print when it cannot be read.
 * A file there that cannot be read (its permissions, a directory) is a configuration fault for
 * exit 2, not a bug for exit 4; the error is named by its code only (Node 20 says ENOENT even for
 * a file it may not read), and its message, which could one day quote the file, is not repeated.
 */
function readEnvFile(): string | undefined {
  if (!existsSync('.env')) return undefined;
  try {
    process.loadEnvFile('.env');
    return undefined;
  } catch (error) {
    const { code, name } = toError(error) as NodeJS.ErrnoException;
    return `${programName}: cannot read .env in ${cell(process.cwd(), 200)} (${code ?? name}); fix it or remove it`;
  }
}

async function main(): Promise<void> {
  installFatalHandlers(process, fatal);
  // `status | head`: the reader went away; what is left to print has nowhere to go. Not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? process.exit() : fatal(error)));
  const io: CliIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };
  // A .env in the working directory, as the service reads it: the environment wins.
  const envFile = readEnvFile();
  if (envFile !== undefined) {
    io.err(`${envFile}\n`);
    process.exitCode = exitCodes.usage;
    return;
  }
  // The exit code is set, not forced: stdout is flushed and the connections are closed by then.
  process.exitCode = await runCli(process.argv.slice(2), process.env, io);
}

// Run as a program, also through the bin link (argv[1] is then the link; this module's URL is its target).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => fatal(error));
}
