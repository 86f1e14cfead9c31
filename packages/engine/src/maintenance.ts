import type { Engine, MaintenanceResult, TenantRef } from './engine.ts'
import type { PartitionRef } from './keys.ts'

export interface MaintenanceOptions {
  /** Longest sleep between looks at the wake index (catches deadlines set by other servers). */
  maxIdleMs?: number
  /** How long a pass may hold a partition before another server may take it over. */
  busyMs?: number
  /** Partitions taken per pass. */
  takeLimit?: number
  /**
   * Every this many ms one server (by a Redis lock) runs a pass over every partition of every
   * tenant, recovering deadlines whose wake hint was lost with a crashed process. 0 disables.
   */
  sweepIntervalMs?: number
  listTenants?: () => Promise<TenantRef[]>
  onPass?: (pass: PassSummary) => void
  onError?: (error: unknown) => void
}

export interface PassSummary {
  partitions: number
  /** Executions fired by cues' ticks. */
  fired: number
  requeued: number
  failed: number
  promoted: number
  purged: number
  /** How late the most overdue partition was handled (ms), the reaper lag. */
  lagMs: number
  results: { ref: PartitionRef; result: MaintenanceResult }[]
}

/**
 * The lease reaper, promoter and cue scheduler. It sleeps until the earliest deadline in the global wake index
 * (or one this process just created), so an idle deployment costs a few Redis calls per second
 * whatever its number of tenants, and an expired lease is re-queued within milliseconds.
 * Any number of servers may run it: a partition is taken by one pass at a time.
 */
export class Maintenance {
  private running = false
  private loopDone: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private wakeAt = Number.POSITIVE_INFINITY
  private wakeUp: (() => void) | null = null
  private lastSweep = 0
  private readonly maxIdleMs: number
  private readonly busyMs: number
  private readonly takeLimit: number
  private readonly sweepIntervalMs: number
  /** A deadline announced while a pass was running, to honour when the loop next sleeps. */
  private announced = Number.POSITIVE_INFINITY
  private readonly onDeadline = (at: number) => {
    if (!this.wakeUp) this.announced = Math.min(this.announced, at)
    else if (at < this.wakeAt) this.arm(at)
  }

  constructor(
    private readonly engine: Engine,
    private readonly options: MaintenanceOptions = {},
  ) {
    this.maxIdleMs = options.maxIdleMs ?? 250
    this.busyMs = options.busyMs ?? 10_000
    this.takeLimit = options.takeLimit ?? 100
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.engine.on('deadline', this.onDeadline)
    this.loopDone = this.loop()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.engine.off('deadline', this.onDeadline)
    this.wake()
    await this.loopDone
  }

  /** One pass: take due partitions, maintain them, put their next deadlines back. */
  async runOnce(): Promise<PassSummary & { next: number | null }> {
    const { now, next, due } = await this.engine.takeDue(this.takeLimit, this.busyMs)
    const results = await Promise.all(
      due.map(async ({ ref }) => ({ ref, result: await this.engine.maintainPartition(ref) })),
    )
    await this.engine.putWake(
      results.map(({ ref, result }) => ({ ref, next: result.next })),
      true,
    )
    let nextAt = next
    for (const { result } of results) {
      if (result.next !== null) nextAt = nextAt === null ? result.next : Math.min(nextAt, result.next)
    }
    if (due.length >= this.takeLimit) nextAt = now
    const summary = summarize(results, due.length ? Math.max(...due.map((d) => now - d.dueAt)) : 0)
    if (due.length) this.options.onPass?.(summary)
    return { ...summary, next: nextAt }
  }

  /** A pass over every partition of every tenant (see sweepIntervalMs). */
  async sweep(): Promise<PassSummary> {
    const tenants = (await this.options.listTenants?.()) ?? []
    const refs = tenants.flatMap((t) => this.engine.partitions(t))
    const results: { ref: PartitionRef; result: MaintenanceResult }[] = []
    for (let i = 0; i < refs.length; i += 50) {
      const chunk = refs.slice(i, i + 50)
      const done = await Promise.all(
        chunk.map(async (ref) => ({ ref, result: await this.engine.maintainPartition(ref) })),
      )
      await this.engine.putWake(
        done.map(({ ref, result }) => ({ ref, next: result.next })),
        false,
      )
      results.push(...done)
    }
    return summarize(results, 0)
  }

  private async maybeSweep(): Promise<void> {
    if (!this.options.listTenants || this.sweepIntervalMs <= 0) return
    if (Date.now() - this.lastSweep < this.sweepIntervalMs) return
    this.lastSweep = Date.now()
    const lock = await this.engine.redis.set(
      `${this.engine.keys.wake()}:sweep`,
      '1',
      'PX',
      Math.max(1000, this.sweepIntervalMs - 1000),
      'NX',
    )
    if (lock === 'OK') await this.sweep()
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let nextAt: number | null = null
      try {
        await this.maybeSweep()
        nextAt = (await this.runOnce()).next
      } catch (error) {
        this.options.onError?.(error)
        nextAt = this.engine.redisNow() + 1000
      }
      if (!this.running) break
      const idleUntil = this.engine.redisNow() + this.maxIdleMs
      await this.sleep(nextAt === null ? idleUntil : Math.min(nextAt, idleUntil))
    }
  }

  private sleep(untilRedisMs: number): Promise<void> {
    const until = Math.min(untilRedisMs, this.announced)
    this.announced = Number.POSITIVE_INFINITY
    return new Promise((resolve) => {
      this.wakeUp = resolve
      this.arm(until)
    })
  }

  private arm(untilRedisMs: number): void {
    if (!this.wakeUp) return
    this.wakeAt = untilRedisMs
    if (this.timer) clearTimeout(this.timer)
    const delay = Math.max(0, untilRedisMs - this.engine.redisNow())
    this.timer = setTimeout(() => this.wake(), delay)
  }

  private wake(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.wakeAt = Number.POSITIVE_INFINITY
    const resolve = this.wakeUp
    this.wakeUp = null
    resolve?.()
  }
}

function summarize(results: { ref: PartitionRef; result: MaintenanceResult }[], lagMs: number): PassSummary {
  const sum = (f: (r: MaintenanceResult) => number) => results.reduce((acc, { result }) => acc + f(result), 0)
  return {
    partitions: results.length,
    fired: sum((r) => r.fired),
    requeued: sum((r) => r.requeued),
    failed: sum((r) => r.failed),
    promoted: sum((r) => r.promoted),
    purged: sum((r) => r.purged),
    lagMs,
    results,
  }
}
