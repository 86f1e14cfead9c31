import type { RateMinute, RatesQuery } from '@cuekit/protocol'

/**
 * The tenant's activity per minute as `GET /v1/stats/rates` answers it, turned into what the
 * Overview draws: bars on the clock's minutes (or ten minutes over 24 h) and a line of numbers.
 * The server counts in storage as things happen, so a tab opened mid-incident shows the minutes
 * before it was opened. Plain functions, so they are easy to test.
 */

export type RateWindow = RatesQuery['window']
export type RateKind = 'claims' | 'completions' | 'failures' | 'reclaims'

export interface WindowSpec {
  /** On the switch. */
  label: string
  /** In sentences: "in the last 15 minutes". */
  span: string
  /** Minutes per bar: 144 bars of ten minutes read better than 1440 of one. */
  bucketMinutes: number
}

export const WINDOWS: Record<RateWindow, WindowSpec> = {
  '15m': { label: '15 min', span: '15 minutes', bucketMinutes: 1 },
  '1h': { label: '1 h', span: 'hour', bucketMinutes: 1 },
  '24h': { label: '24 h', span: '24 hours', bucketMinutes: 10 },
}

export const DEFAULT_WINDOW: RateWindow = '15m'

export function isWindow(value: unknown): value is RateWindow {
  return typeof value === 'string' && Object.hasOwn(WINDOWS, value)
}

export interface Bucket {
  /** Its first instant (ms), on a multiple of its length. */
  start: number
  /** The instant after it. */
  end: number
  count: number
  /** The part of it that has passed: less than its length for the current one. */
  seconds: number
  /** Holds the current minute: still counting. */
  current: boolean
}

/** The minutes of `kind` summed into buckets of `bucketMinutes`, aligned on the clock, oldest first. */
export function buckets(
  minutes: RateMinute[],
  kind: RateKind,
  bucketMinutes: number,
  nowMs: number,
): Bucket[] {
  const size = bucketMinutes * 60_000
  const out: Bucket[] = []
  for (const m of minutes) {
    const at = Date.parse(m.at)
    const start = at - (at % size)
    let bucket = out.at(-1)
    if (!bucket || bucket.start !== start) {
      bucket = { start, end: start + size, count: 0, seconds: 0, current: false }
      out.push(bucket)
    }
    bucket.count += m[kind]
    bucket.seconds += Math.max(0, Math.min(60, (nowMs - at) / 1000))
  }
  const last = out.at(-1)
  if (last) last.current = nowMs < last.end
  return out
}

export interface Summary {
  /** In the whole window. */
  total: number
  /** Per second over the previous minute and the current one so far. */
  now: number
  /** How many seconds `now` is averaged over (60 to 120). */
  nowSeconds: number
  /** The most in one minute, whatever the bars' width. */
  peakCount: number
  /**
   * Per second in the busiest minute, or `now` when that is higher (a burst early in the current
   * minute), so the peak is never below what "now" says.
   */
  peak: number
}

export function summarize(minutes: RateMinute[], kind: RateKind, nowMs: number): Summary {
  const total = minutes.reduce((sum, m) => sum + m[kind], 0)
  const peakCount = Math.max(0, ...minutes.map((m) => m[kind]))
  // The current minute alone would read low early in the minute (and jump about): the previous
  // one is added, so "now" is the rate over the last 60 to 120 seconds.
  const recent = minutes.slice(-2)
  const nowSeconds = recent.reduce(
    (s, m) => s + Math.max(0, Math.min(60, (nowMs - Date.parse(m.at)) / 1000)),
    0,
  )
  const recentCount = recent.reduce((s, m) => s + m[kind], 0)
  const now = nowSeconds > 0 ? recentCount / nowSeconds : 0
  return { total, now, nowSeconds: Math.round(nowSeconds), peakCount, peak: Math.max(peakCount / 60, now) }
}
