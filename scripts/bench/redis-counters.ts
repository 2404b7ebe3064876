/**
 * What the private redis-server counts, read before and after one job:
 * commands per name (INFO commandstats: a script's own commands count too),
 * bytes received and sent (INFO stats total_net_input_bytes and
 * total_net_output_bytes) and the AOF's size (INFO persistence
 * aof_current_size, appendonly on). The bench's own INFO commands are left
 * out: `info` by name, and their bytes by a calibration (two reads with
 * nothing in between; an INFO reply varies by a few bytes).
 */
import type { Redis } from 'ioredis';

export interface RedisCounters {
  readonly commands: ReadonlyMap<string, number>;
  readonly netInputBytes: number;
  readonly netOutputBytes: number;
  readonly aofBytes: number;
}

/** The bytes one INFO read adds to the counts. */
export interface InfoCost {
  readonly input: number;
  readonly output: number;
}

export interface RedisDelta {
  /** Commands the job made Redis run, by name, scripts' own commands included. */
  readonly commands: ReadonlyMap<string, number>;
  readonly totalCommands: number;
  /** Bytes the job sent to Redis. */
  readonly netInputBytes: number;
  /** Bytes the job read from Redis. */
  readonly netOutputBytes: number;
  /** Bytes the job added to the append-only file. */
  readonly aofBytes: number;
}

function field(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  if (!match?.[1]) throw new Error(`INFO has no ${name}`);
  return Number(match[1]);
}

export async function readCounters(redis: Redis): Promise<RedisCounters> {
  const info = String(await redis.call('INFO', 'commandstats', 'stats', 'persistence'));
  const commands = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands.set(String(match[1]), Number(match[2]));
  return {
    commands,
    netInputBytes: field(info, 'total_net_input_bytes'),
    netOutputBytes: field(info, 'total_net_output_bytes'),
    aofBytes: field(info, 'aof_current_size'),
  };
}

/** What one INFO read adds to the byte counts, measured on this connection. */
export async function calibrate(redis: Redis): Promise<InfoCost> {
  const a = await readCounters(redis);
  const b = await readCounters(redis);
  return { input: b.netInputBytes - a.netInputBytes, output: b.netOutputBytes - a.netOutputBytes };
}

export function delta(before: RedisCounters, after: RedisCounters, info: InfoCost): RedisDelta {
  const commands = new Map<string, number>();
  for (const [name, calls] of after.commands) {
    const n = calls - (before.commands.get(name) ?? 0);
    if (n > 0 && name !== 'info') commands.set(name, n);
  }
  return {
    commands,
    totalCommands: [...commands.values()].reduce((a, b) => a + b, 0),
    netInputBytes: after.netInputBytes - before.netInputBytes - info.input,
    netOutputBytes: after.netOutputBytes - before.netOutputBytes - info.output,
    aofBytes: after.aofBytes - before.aofBytes,
  };
}

/** `evalsha 2, hset 1, …`, most first. */
export function describeCommands(commands: ReadonlyMap<string, number>): string {
  return [...commands]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}
