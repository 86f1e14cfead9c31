export type RateKind = 'claims' | 'completions'

export interface RateTotals {
  claimed: number
  completed: number
}

interface Saved {
  bucketMs: number
  buckets: Record<RateKind, [number, number][]>
}

/**
 * Claims and completions counted in fixed buckets over a sliding window (15 minutes of 10 s
 * buckets by default). Fed by the event stream, or by sampling counter totals while the stream
 * is unavailable. The server keeps no rate history, so the series starts when the tab does; it
 * is saved in sessionStorage to survive a reload.
 */
export class RateSeries {
  private readonly buckets: Record<RateKind, Map<number, number>> = {
    claims: new Map(),
    completions: new Map(),
  }
  private last: RateTotals | null = null

  constructor(
    readonly bucketMs = 10_000,
    readonly windowMs = 15 * 60_000,
  ) {}

  get bucketCount(): number {
    return Math.ceil(this.windowMs / this.bucketMs)
  }

  add(kind: RateKind, atMs: number, n = 1): void {
    const start = atMs - (atMs % this.bucketMs)
    const map = this.buckets[kind]
    map.set(start, (map.get(start) ?? 0) + n)
  }

  /**
   * Adds what the counters grew by since the previous sample. A counter that went down (a worker
   * was forgotten) adds nothing. Call forgetTotals() when switching to the event stream, so that
   * the next sample is a fresh baseline and nothing is counted twice.
   */
  addTotals(totals: RateTotals, atMs: number): void {
    if (this.last) {
      const claims = totals.claimed - this.last.claimed
      const completions = totals.completed - this.last.completed
      if (claims > 0) this.add('claims', atMs, claims)
      if (completions > 0) this.add('completions', atMs, completions)
    }
    this.last = { ...totals }
  }

  forgetTotals(): void {
    this.last = null
  }

  /** Counts per bucket, oldest first, ending with the bucket that holds `nowMs`. */
  series(kind: RateKind, nowMs: number): number[] {
    const end = nowMs - (nowMs % this.bucketMs)
    const out: number[] = []
    for (let i = this.bucketCount - 1; i >= 0; i--)
      out.push(this.buckets[kind].get(end - i * this.bucketMs) ?? 0)
    return out
  }

  /** Per second over the last complete bucket, the peak bucket, and the window's total. */
  summary(kind: RateKind, nowMs: number): { current: number; peak: number; total: number } {
    const s = this.series(kind, nowMs)
    const perSecond = (n: number) => n / (this.bucketMs / 1000)
    return {
      current: perSecond(s.at(-2) ?? 0),
      peak: perSecond(Math.max(0, ...s)),
      total: s.reduce((a, b) => a + b, 0),
    }
  }

  prune(nowMs: number): void {
    const oldest = nowMs - this.windowMs - this.bucketMs
    for (const map of Object.values(this.buckets)) for (const k of map.keys()) if (k < oldest) map.delete(k)
  }

  toJSON(): Saved {
    return {
      bucketMs: this.bucketMs,
      buckets: { claims: [...this.buckets.claims], completions: [...this.buckets.completions] },
    }
  }

  load(saved: unknown): void {
    const s = saved as Partial<Saved> | null
    if (!s || s.bucketMs !== this.bucketMs || !s.buckets) return
    for (const kind of ['claims', 'completions'] as const) {
      for (const entry of s.buckets[kind] ?? []) {
        if (Array.isArray(entry) && entry.every((n) => typeof n === 'number')) {
          this.buckets[kind].set(entry[0], entry[1])
        }
      }
    }
  }
}
