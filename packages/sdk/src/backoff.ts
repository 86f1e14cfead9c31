/**
 * How retries space themselves out: see {@link backoffDelay}.
 *
 * @example
 * ```ts
 * const worker = new Worker({ apiKey, handlers, backoff: { initialMs: 250, maxMs: 10_000 } })
 * ```
 */
export interface BackoffOptions {
  /** The first delay, in ms. */
  initialMs?: number
  /** The largest delay, in ms. */
  maxMs?: number
  /** Growth per attempt. Default 2. */
  multiplier?: number
}

/**
 * The delay before retry number `attempt` (1 for the first retry): exponential growth capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so a fleet of workers that lost the
 * server at the same moment does not come back in lockstep, yet no delay collapses to zero.
 *
 * @example
 * ```ts
 * import { backoffDelay } from '@cuekit/sdk'
 *
 * backoffDelay(1, { initialMs: 500, maxMs: 30_000 }) // between 250 and 500
 * backoffDelay(4, { initialMs: 500, maxMs: 30_000 }) // between 2000 and 4000
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const initial = options.initialMs ?? 500
  const max = options.maxMs ?? 30_000
  const multiplier = options.multiplier ?? 2
  const ceiling = Math.min(max, initial * multiplier ** Math.max(0, attempt - 1))
  return ceiling / 2 + random() * (ceiling / 2)
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, Math.max(0, ms))
    signal?.addEventListener('abort', done, { once: true })
  })
}
