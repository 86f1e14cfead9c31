import { EXECUTION_STATUSES, type QueueCounts } from '@cuekit/protocol'

/** One task's row, summed over every tenant. */
export interface TaskTotals {
  pending: number
  /** Executions leased to a worker (status `delivering`). */
  leased: number
  /** Age of the oldest pending execution of this task in any tenant; null when none is pending. */
  oldestPendingAgeMs: number | null
}

export interface Snapshot {
  /** When the walk that made it finished (ms since the epoch, this process's clock). */
  takenAt: number
  /** How long that walk took. */
  durationMs: number
  /** Executions by status, all tenants. */
  byStatus: Record<string, number>
  byTask: Map<string, TaskTotals>
}

export interface SnapshotOptions {
  /** Yields each tenant's `/v1/queues` rows (the per-tenant reads: only the loop calls it). */
  walk: () => AsyncIterable<QueueCounts[]>
  refreshMs: number
  /** The loop pauses when nobody has scraped for this long; the next scrape resumes it. */
  idleMs?: number
  onError?: (error: unknown) => void
}

/**
 * The queue gauges of `/metrics`, taken by one background loop per server so that a scrape
 * costs the same with 3 tenants or 3,000: it reads the last snapshot and never storage. The
 * loop runs while someone scrapes, one walk at a time, a walk starting `refreshMs` after the
 * previous one ended; so a snapshot is at most `refreshMs` plus one walk old (exported as
 * `cuekit_metrics_snapshot_age_seconds`).
 */
export class QueueSnapshot {
  private current: Snapshot | null = null
  private running: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private lastScrape = 0
  private closed = false
  private readonly idleMs: number

  constructor(private readonly options: SnapshotOptions) {
    this.idleMs = options.idleMs ?? Math.max(5 * 60_000, 10 * options.refreshMs)
  }

  /** The latest snapshot (null before the first walk ends). Never reads storage. */
  latest(): Snapshot | null {
    this.lastScrape = Date.now()
    if (!this.closed && !this.running && !this.timer) this.schedule()
    return this.current
  }

  /** Whether a walk runs or is scheduled. */
  get looping(): boolean {
    return this.running !== null || this.timer !== null
  }

  /** Takes a snapshot now, or joins the walk in progress (single flight). */
  refresh(): Promise<void> {
    this.running ??= this.take().finally(() => {
      this.running = null
      if (!this.closed && Date.now() - this.lastScrape < this.idleMs) this.schedule()
    })
    return this.running
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  /** The next walk: when the current snapshot reaches `refreshMs` of age (at once if there is none). */
  private schedule(): void {
    if (this.timer) return
    const age = this.current ? Date.now() - this.current.takenAt : Number.POSITIVE_INFINITY
    this.timer = setTimeout(
      () => {
        this.timer = null
        void this.refresh()
      },
      Math.max(0, this.options.refreshMs - age),
    )
    this.timer.unref()
  }

  private async take(): Promise<void> {
    const started = Date.now()
    const byStatus: Record<string, number> = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0]))
    const byTask = new Map<string, TaskTotals>()
    try {
      for await (const rows of this.options.walk()) {
        for (const row of rows) {
          for (const status of EXECUTION_STATUSES) byStatus[status]! += row[status]
          const t = byTask.get(row.task) ?? { pending: 0, leased: 0, oldestPendingAgeMs: null }
          t.pending += row.pending
          t.leased += row.delivering
          if (row.oldest_pending_age_ms !== null)
            t.oldestPendingAgeMs = Math.max(t.oldestPendingAgeMs ?? 0, row.oldest_pending_age_ms)
          byTask.set(row.task, t)
        }
      }
    } catch (error) {
      // The previous snapshot stays; its age shows that it is getting old.
      this.options.onError?.(error)
      return
    }
    const now = Date.now()
    this.current = { takenAt: now, durationMs: now - started, byStatus, byTask }
  }
}

/**
 * At most `max` task series: the tasks with the most pending work (then the oldest), the rest
 * summed into one series, task `_other`. Task names come from clients, and each one would
 * otherwise be a time series in every Prometheus that scrapes this server.
 */
export function boundedTasks(byTask: Map<string, TaskTotals>, max: number): [string, TaskTotals][] {
  const rows = [...byTask].filter(([, t]) => t.pending > 0 || t.leased > 0)
  if (rows.length <= max) return rows
  rows.sort(
    ([, a], [, b]) => b.pending - a.pending || (b.oldestPendingAgeMs ?? 0) - (a.oldestPendingAgeMs ?? 0),
  )
  const kept = rows.slice(0, max - 1)
  const other: TaskTotals = { pending: 0, leased: 0, oldestPendingAgeMs: null }
  for (const [, t] of rows.slice(max - 1)) {
    other.pending += t.pending
    other.leased += t.leased
    if (t.oldestPendingAgeMs !== null)
      other.oldestPendingAgeMs = Math.max(other.oldestPendingAgeMs ?? 0, t.oldestPendingAgeMs)
  }
  kept.push([OTHER_TASKS, other])
  return kept
}

/** The task label of the series that sums the tasks beyond the bound. */
export const OTHER_TASKS = '_other'
