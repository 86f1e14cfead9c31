/**
 * Exponential backoff with jitter, so a dashboard left open during an outage does not hammer
 * the server, and many open dashboards do not retry in lockstep.
 */
export class Backoff {
  private failures = 0

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.failures
  }

  /** The delay before the next try, growing with each call until reset(). */
  next(): number {
    const raw = Math.min(this.maxMs, this.baseMs * 2 ** this.failures)
    this.failures += 1
    // +/-20 % jitter, never above the cap.
    return Math.round(Math.min(this.maxMs, raw * (0.8 + 0.4 * this.random())))
  }

  reset(): void {
    this.failures = 0
  }
}
