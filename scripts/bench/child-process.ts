/**
 * The bench's child processes and how it talks to them: each child is forked
 * with an IPC channel, answers one request at a time, and reports its peak RSS
 * when told to exit. Children are the compiled .js files under `npm run bench`
 * (plain node, so their memory is the service's own), and the .ts sources
 * through tsx when the harness itself runs from source (the test).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** What every child answers to `exit`: its peak resident set size over its whole life. */
export interface ExitReport {
  readonly maxRssBytes: number;
}

type Reply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

export interface BenchChild<Request extends { readonly cmd: string }> {
  readonly pid: number;
  /** Sends one request and waits for its answer; a child that dies meanwhile rejects it with the tail of its output. */
  request<T>(message: Request): Promise<T>;
  /** Asks the child for its exit report, then waits for it to exit. */
  exit(): Promise<ExitReport>;
  /** Kills it (after a failure), without waiting. */
  kill(): void;
}

const OUTPUT_TAIL = 4000;

/**
 * Forks `name` (e.g. 'poll-child') next to this module, with the same
 * extension, and waits until it answered `init`, its first message.
 * `nodeOptions` are added to node's own (e.g. --cpu-prof).
 */
export async function forkChild<Request extends { readonly cmd: string }>(
  name: string,
  init: unknown,
  nodeOptions: readonly string[] = [],
): Promise<BenchChild<Request>> {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  const child: ChildProcess = fork(file, [], {
    execArgv: [...(fromSource ? ['--import', 'tsx'] : []), ...nodeOptions],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let exited: Error | undefined;
  const failAll = (error: Error): void => {
    exited = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  child.on('message', (message: Reply) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(`${name}: ${message.error}`));
  });
  child.on('exit', (code, signal) => failAll(new Error(`${name} exited (code ${code}, signal ${signal}); its last output:\n${output}`)));

  const request = <T>(message: unknown): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, message });
    });
  };

  await request<void>({ cmd: 'init', init });
  return {
    pid: child.pid ?? 0,
    request,
    async exit() {
      const closed = once(child, 'exit');
      const report = await request<ExitReport>({ cmd: 'exit' });
      await closed;
      return report;
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

/** What a child does: its set-up from the parent's first message, each request, and its clean-up before it exits. */
export interface ChildHandlers<Request extends { readonly cmd: string }> {
  init(init: unknown): Promise<void>;
  handle(message: Request): Promise<unknown>;
  close(): Promise<void>;
}

type Incoming<Request> = { readonly id: number; readonly message: Request | { readonly cmd: 'init'; readonly init: unknown } | { readonly cmd: 'exit' } };

/**
 * The child's side: answers each request with its handler's result (or its
 * error, as text), one at a time. `exit` is answered with the peak RSS once
 * `close` is done, and the process then exits.
 */
export function serveParent<Request extends { readonly cmd: string }>(handlers: ChildHandlers<Request>): void {
  const send = (reply: Reply): void => {
    process.send?.(reply);
  };
  let queue = Promise.resolve();
  process.on('message', ({ id, message }: Incoming<Request>) => {
    queue = queue.then(async () => {
      try {
        if (message.cmd === 'exit') {
          await handlers.close();
          // ru_maxrss is in kilobytes on Linux.
          send({ id, ok: true, result: { maxRssBytes: process.resourceUsage().maxRSS * 1024 } satisfies ExitReport });
          process.disconnect();
        } else if (message.cmd === 'init' && 'init' in message) {
          send({ id, ok: true, result: await handlers.init(message.init) });
        } else {
          send({ id, ok: true, result: await handlers.handle(message as Request) });
        }
      } catch (error) {
        send({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    });
  });
  // The parent went away without asking us to exit (it failed): do not linger.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
}
