import type { EngineCore, TenantRef } from './core.ts'
import { head, int, Row } from './decode.ts'
import type { PartitionRef } from './keys.ts'
import {
  DEADLINES_ARGS,
  DEADLINES_REPLY,
  DUE_TAKE_ARGS,
  DUE_TAKE_REPLY,
  PROMOTE_ARGS,
  PROMOTE_REPLY,
  PURGE_ARGS,
  PURGE_REPLY,
  REAP_ARGS,
  REAP_REPLY,
} from './layouts/index.ts'
import { args } from './scripts.ts'

// The lease reaper, promoter, retention purge and cue scheduler: when each partition is next due
// (the due index), the pass over one partition, and the loop that runs passes on every server.

export interface MaintenanceResult {
  /** Executions fired by cues' ticks. */
  fired: number
  requeued: number
  failed: number
  promoted: number
  purged: number
  /** Outcome deadlines that passed unanswered (outcome_state unknown). */
  deadlinesPassed: number
  /** Expired execution ids re-queued or failed by this pass. */
  expired: string[]
  now: number
  /** When this partition is next due (Redis ms), or null. */
  next: number | null
}

/** The cue scheduler's share of a pass (cues.ts). */
export interface Scheduler {
  schedule(ref: PartitionRef): Promise<{ fired: number; next: number | null }>
}

/** What a partition pass needs of the engine. */
export interface Schedulable {
  readonly core: EngineCore
  readonly cues: Scheduler
}

/** What the loop needs of the engine (the Engine facade; tests substitute passes here). */
export interface Maintainable {
  readonly core: EngineCore
  maintainPartition(ref: PartitionRef, batch?: number): Promise<MaintenanceResult>
  takeDue(limit: number, busyMs: number): ReturnType<typeof takeDue>
}

const BATCH = 1000

/** One pass over a partition: fire due cues, promote due, reap expired, purge old. */
export async function maintainPartition(
  engine: Schedulable,
  ref: PartitionRef,
  batch = BATCH,
): Promise<MaintenanceResult> {
  const { core } = engine
  const [promoted, reaped, purged, passed, scheduled] = await Promise.all([
    core.run('promote', ref, args(PROMOTE_ARGS, { limit: batch })),
    core.run('reap', ref, args(REAP_ARGS, { limit: batch })),
    core.run('purge', ref, args(PURGE_ARGS, { limit: batch, retention_ms: core.retentionSeconds * 1000 })),
    core.run('deadlines', ref, args(DEADLINES_ARGS, { limit: batch })),
    engine.cues.schedule(ref),
  ])
  const p = head(promoted, PROMOTE_REPLY)
  const r = head(reaped, REAP_REPLY)
  const u = head(purged, PURGE_REPLY)
  const d = head(passed, DEADLINES_REPLY)
  const nexts = [p.str('next_due'), r.str('next_due'), u.str('next_due'), d.str('next_due')]
    .filter((v) => v !== '')
    .map(Number)
  if (scheduled.next !== null) nexts.push(scheduled.next)
  const now = r.int('now')
  // A full batch means more is due right now.
  if (
    p.int('promoted') >= batch ||
    r.int('requeued') + r.int('failed') >= batch ||
    u.int('purged') >= batch ||
    d.int('passed') >= batch
  ) {
    nexts.push(now)
  }
  return {
    fired: scheduled.fired,
    promoted: p.int('promoted'),
    requeued: r.int('requeued'),
    failed: r.int('failed'),
    purged: u.int('purged'),
    deadlinesPassed: d.int('passed'),
    expired: reaped.slice(REAP_REPLY.size).map(String),
    now,
    next: nexts.length ? Math.min(...nexts) : null,
  }
}

/** Takes the partitions that are due (marking them busy for `busyMs`). */
export async function takeDue(
  core: EngineCore,
  limit: number,
  busyMs: number,
): Promise<{ now: number; next: number | null; due: { ref: PartitionRef; dueAt: number }[] }> {
  const reply = await core.scripts.global(
    'due_take',
    args(DUE_TAKE_ARGS, { limit, busy_ms: busyMs, clock: core.scripts.clock() }),
  )
  const h = new Row(reply, DUE_TAKE_REPLY)
  const now = h.int('now')
  core.sawNow(now)
  const due: { ref: PartitionRef; dueAt: number }[] = []
  for (let i = DUE_TAKE_REPLY.size; i + 1 < reply.length; i += 2) {
    due.push({ ref: core.keys.parsePartitionName(String(reply[i])), dueAt: int(reply[i + 1]) })
  }
  return { now, next: h.str('next_due') === '' ? null : h.int('next_due'), due }
}

export interface MaintenanceOptions {
  /** Longest sleep between looks at the due index (catches due times set by other servers). */
  maxIdleMs?: number
  /** How long a pass may hold a partition before another server may take it over. */
  busyMs?: number
  /** Partitions taken per pass. */
  takeLimit?: number
  /**
   * Every this many ms one server (by a Redis lock) runs a pass over every partition of every
   * tenant, recovering due times lost with a crashed process (on Redis Cluster). 0 disables.
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
 * The maintenance loop. It sleeps until the earliest due time in the global due index (or one
 * this process just created), so an idle deployment costs a few Redis calls per second whatever
 * its number of tenants, and an expired lease is re-queued within milliseconds. Any number of
 * servers may run it: a partition is taken by one pass at a time.
 */
export class Maintenance {
  private running = false
  private loopDone: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private alarmAt = Number.POSITIVE_INFINITY
  private endSleep: (() => void) | null = null
  private lastSweep = 0
  private readonly maxIdleMs: number
  private readonly busyMs: number
  private readonly takeLimit: number
  private readonly sweepIntervalMs: number
  /** A due time announced while a pass was running, to honour when the loop next sleeps. */
  private dueDuringPass = Number.POSITIVE_INFINITY
  private readonly onDue = (at: number) => {
    if (!this.endSleep) this.dueDuringPass = Math.min(this.dueDuringPass, at)
    else if (at < this.alarmAt) this.arm(at)
  }
  private readonly core: EngineCore

  constructor(
    private readonly engine: Maintainable,
    private readonly options: MaintenanceOptions = {},
  ) {
    this.core = engine.core
    this.maxIdleMs = options.maxIdleMs ?? 250
    this.busyMs = options.busyMs ?? 10_000
    this.takeLimit = options.takeLimit ?? 100
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.core.on('due', this.onDue)
    this.loopDone = this.loop()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.core.off('due', this.onDue)
    this.ringAlarm()
    await this.loopDone
  }

  /** One pass: take due partitions, maintain them, put their next due times back. */
  async runOnce(): Promise<PassSummary & { next: number | null }> {
    const { now, next, due } = await this.engine.takeDue(this.takeLimit, this.busyMs)
    const results = await Promise.all(
      due.map(async ({ ref }) => ({ ref, result: await this.engine.maintainPartition(ref) })),
    )
    await this.core.putDue(
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
    const refs = tenants.flatMap((t) => this.core.partitions(t))
    const results: { ref: PartitionRef; result: MaintenanceResult }[] = []
    for (let i = 0; i < refs.length; i += 50) {
      const chunk = refs.slice(i, i + 50)
      const done = await Promise.all(
        chunk.map(async (ref) => ({ ref, result: await this.engine.maintainPartition(ref) })),
      )
      await this.core.putDue(
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
    const lock = await this.core.redis.set(
      this.core.keys.sweepLock(),
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
        nextAt = this.core.redisNow() + 1000
      }
      if (!this.running) break
      const idleUntil = this.core.redisNow() + this.maxIdleMs
      await this.sleep(nextAt === null ? idleUntil : Math.min(nextAt, idleUntil))
    }
  }

  private sleep(untilRedisMs: number): Promise<void> {
    const until = Math.min(untilRedisMs, this.dueDuringPass)
    this.dueDuringPass = Number.POSITIVE_INFINITY
    return new Promise((resolve) => {
      this.endSleep = resolve
      this.arm(until)
    })
  }

  private arm(untilRedisMs: number): void {
    if (!this.endSleep) return
    this.alarmAt = untilRedisMs
    if (this.timer) clearTimeout(this.timer)
    const delay = Math.max(0, untilRedisMs - this.core.redisNow())
    this.timer = setTimeout(() => this.ringAlarm(), delay)
  }

  private ringAlarm(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.alarmAt = Number.POSITIVE_INFINITY
    const resolve = this.endSleep
    this.endSleep = null
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
