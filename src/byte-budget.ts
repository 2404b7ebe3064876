/**
 * A process-wide budget of bytes, shared by the API bodies read at once
 * (AMPERSAND_MAX_BODY_MB): memory, not the size of one customer, is what it
 * bounds. A reader reserves what its body will need before it reads (its
 * Content-Length, or the size the same listing had last time) and waits, in
 * arrival order, until that fits beside the others; so POLL_CONCURRENCY big
 * integrations are read one or two at a time while small ones go through
 * together. A body may grow past its reservation (an unknown length): that
 * growth takes what is free and never waits, since two readers that each hold
 * part of the budget and wait for the other's part would wait forever; the
 * overshoot is at most one body, which is itself capped at the whole budget.
 */

export interface ByteBudget {
  /** The whole budget, in bytes. */
  readonly total: number;
  /** Waits until `bytes` (at most `total`) fit, then holds them until the lease is released. */
  reserve(bytes: number, signal?: AbortSignal): Promise<BudgetLease>;
}

export interface BudgetLease {
  /** Bytes held now. */
  readonly held: number;
  /** Holds `bytes` more at once, without waiting, even over the budget (see the module comment). */
  grow(bytes: number): void;
  /** Gives back what it holds; idempotent. */
  release(): void;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

/** A budget of `total` bytes (a positive integer). */
export function createByteBudget(total: number): ByteBudget {
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`a byte budget must be a positive integer, got ${total}`);
  let used = 0;
  const queue: Waiter[] = [];

  /** Grants waiters in order; one that does not fit holds back the ones behind it, so a big body is never starved by small ones. */
  function drain(): void {
    for (let head = queue[0]; head !== undefined && used + head.bytes <= total; head = queue[0]) {
      queue.shift();
      used += head.bytes;
      head.grant();
    }
  }

  function lease(initial: number): BudgetLease {
    let held = initial;
    let released = false;
    return {
      get held() {
        return held;
      },
      grow(bytes) {
        if (released || bytes <= 0) return;
        held += bytes;
        used += bytes;
      },
      release() {
        if (released) return;
        released = true;
        used -= held;
        held = 0;
        drain();
      },
    };
  }

  return {
    total,
    reserve(bytes, signal) {
      const wanted = Math.min(total, Math.max(0, Math.ceil(bytes)));
      if (queue.length === 0 && used + wanted <= total) {
        used += wanted;
        return Promise.resolve(lease(wanted));
      }
      return new Promise<BudgetLease>((resolve, reject) => {
        const waiter: Waiter = {
          bytes: wanted,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(lease(wanted));
          },
        };
        function onAbort(): void {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          // The one that left may have held back smaller ones behind it.
          drain();
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the body budget'));
        }
        if (signal?.aborted) {
          onAbort();
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
      });
    },
  };
}
