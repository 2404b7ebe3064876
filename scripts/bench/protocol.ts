/**
 * The messages between the bench and its children, typed once for both sides.
 * Each child gets its set-up as its first message and then answers requests.
 */

/** The floor: the same GET and JSON.parse as a poll, and nothing else. */
export interface FloorInit {
  readonly url: string;
  readonly apiKey: string;
}
export type FloorRequest = { readonly cmd: 'fetch' };
export interface FloorResult {
  readonly ms: number;
  readonly bytes: number;
  readonly items: number;
}

/** The service's environment (what main.ts reads), as the poll and monitor children parse it. */
export type BenchEnv = Readonly<Record<string, string>>;

/** The poll child: the real jobs on the real adapters, without workers, driven one call at a time. */
export interface PollInit {
  readonly env: BenchEnv;
}
export type PollRequest = { readonly cmd: 'poll'; readonly integrationId: string } | { readonly cmd: 'cycle'; readonly integrationIds: readonly string[] };
export interface PollResult {
  readonly ms: number;
  /** `committed`, `conflict`, or `fails: <reason>`. */
  readonly outcome: string;
  /** Writes on the Redis socket during the call: one per command sent alone, one per pipeline. */
  readonly redisWrites: number;
}
export interface CycleResult {
  readonly ms: number;
  readonly outcome: string;
  readonly redisWrites: number;
}

/** The monitor child: startMonitor, as the service runs, with its HTTP server on a free port. */
export interface MonitorInit {
  readonly env: BenchEnv;
}
export type MonitorRequest = { readonly cmd: 'port' } | { readonly cmd: 'loop-reset' } | { readonly cmd: 'loop-max' } | { readonly cmd: 'cpu' };
