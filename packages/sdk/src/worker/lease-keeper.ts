import { LIMITS } from '@cuekit/protocol'
import { backoffDelay, sleep } from '../backoff.ts'
import type { ExecutionsApi } from '../client/executions.ts'
import {
  ConflictError,
  CuekitError,
  ExecutionCancelledError,
  errorFromBody,
  isRetryable,
  LeaseLostError,
  NotFoundError,
} from '../errors.ts'
import { errorOf, eventOf, type ReleaseReason, type WorkerSink } from './events.ts'
import type { Execution } from './execution.ts'

/** The calls the lease keeper makes. */
export type LeaseApi = Pick<ExecutionsApi, 'heartbeat' | 'heartbeats' | 'release'>

/** Codes of a heartbeat or report answer that mean the lease is gone for good. */
export const LOST_CODES: ReadonlySet<string> = new Set([
  'lease_lost',
  'execution_not_claiming',
  'execution_not_found',
  'not_execution_owner',
])

export interface LeaseKeeperOptions {
  workerId: string
  /** Fixed heartbeat period in ms; default a third of each lease. */
  heartbeatIntervalMs?: number | undefined
}

interface Beat {
  nextAt: number
  failures: number
}

/**
 * Keeps the leases of held and running executions alive: one batch heartbeat for all of them, due at a
 * third of the shortest lease (those not due yet ride along for free), and takes the lease away
 * from a handler when the server says it is gone or cancelled, or when our clock passes its
 * deadline without an acknowledged extension. It also gives leases back (release).
 */
export class LeaseKeeper {
  /** Leases worth extending; a lease leaves for good once the server says it is gone. */
  private readonly beats = new Map<Execution, Beat>()
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (infinity when none is). */
  private timerAt = Number.POSITIVE_INFINITY
  private inFlight = false

  constructor(
    private readonly api: LeaseApi,
    private readonly options: LeaseKeeperOptions,
    private readonly sink: WorkerSink,
  ) {}

  /** Starts heartbeating a lease the claim sent at `sentAt` granted. */
  track(execution: Execution, sentAt: number): void {
    const nextAt = sentAt + this.interval(execution)
    this.beats.set(execution, { nextAt, failures: 0 })
    // One timer for all leases, re-armed only for a lease due before it: the leases of a claim
    // come due after the ones already held, so a batch costs no timer per execution.
    const at = Math.min(nextAt, execution.deadline)
    if (!this.inFlight && at < this.timerAt) this.schedule(at)
  }

  /**
   * Stops heartbeating a lease (finished, lost, cancelled or released). The timer stays armed: if
   * it was this lease's, it wakes for nothing and re-arms, once, instead of once per execution.
   */
  forget(execution: Execution): void {
    if (this.beats.delete(execution) && this.beats.size === 0) this.disarm()
  }

  /** Stops every timer; the leases left are released or expire. */
  stop(): void {
    this.disarm()
    this.beats.clear()
  }

  /** held or running → lost, with its event. */
  lose(execution: Execution, by: 'server' | 'clock', error: Error): void {
    if (!execution.lose(by, error)) return
    this.forget(execution)
    this.sink.emit('lost', eventOf(execution.info, { error }))
  }

  /** held or running → cancelled, with its event. */
  cancel(execution: Execution): void {
    if (!execution.cancel()) return
    this.forget(execution)
    this.sink.emit('cancelled', execution.info)
  }

  /** Extends one lease now (`ctx.heartbeat()`, `ctx.extend()`), to `seconds` or its length. */
  async extend(execution: Execution, seconds: number | undefined): Promise<void> {
    const sentAt = Date.now()
    try {
      const answer = await this.api.heartbeat(
        execution.id,
        { lease_token: execution.token, extend_seconds: seconds, worker_id: this.options.workerId },
        { timeoutMs: 10_000 },
      )
      this.extended(execution, sentAt, answer.lease.remaining_ms)
    } catch (error) {
      if (error instanceof ExecutionCancelledError) this.cancel(execution)
      else if (error instanceof CuekitError && LOST_CODES.has(error.code))
        this.lose(execution, 'server', error)
      throw error
    }
  }

  /**
   * Gives the lease back (a few tries: it makes the execution claimable at once instead of after
   * its lease). A lease that is already gone needs no release. Failures go to `emitError`.
   */
  async release(execution: Execution, reason: ReleaseReason, delaySeconds?: number): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.api.release(
            execution.id,
            { lease_token: execution.token, delay_seconds: delaySeconds },
            { timeoutMs: 10_000 },
          )
          this.sink.emit('released', eventOf(execution.info, { reason }))
          return
        } catch (error) {
          if (error instanceof ConflictError || error instanceof NotFoundError) return
          if (!isRetryable(error) || attempt >= 3) throw error
          await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 2000 }))
        }
      }
    } catch (error) {
      this.sink.emitError(error)
    }
  }

  private interval(execution: Execution): number {
    return (
      this.options.heartbeatIntervalMs ?? ((execution.extendSeconds ?? execution.leaseSeconds) * 1000) / 3
    )
  }

  /** An extension moves the lease's times later only: an armed timer is early at worst, and re-arms. */
  private extended(execution: Execution, sentAt: number, remainingMs: number): void {
    execution.deadline = sentAt + remainingMs
    const beat = this.beats.get(execution)
    if (beat) {
      beat.nextAt = sentAt + this.interval(execution)
      beat.failures = 0
    }
  }

  /** Leases to extend now: held and running ones, and those whose outcome is on its way while still valid. */
  private due(): Execution[] {
    const now = Date.now()
    return [...this.beats.keys()].filter((e) => e.leaseHeld || (e.state === 'reporting' && now < e.deadline))
  }

  private arm(): void {
    this.disarm()
    if (this.inFlight) return
    let next = Number.POSITIVE_INFINITY
    for (const e of this.due()) {
      next = Math.min(next, this.beats.get(e)!.nextAt)
      if (e.leaseHeld) next = Math.min(next, e.deadline)
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next)
  }

  private schedule(at: number): void {
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.timerAt = Number.POSITIVE_INFINITY
        void this.beat()
      },
      Math.max(0, at - Date.now()),
    )
  }

  private disarm(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }

  private async beat(): Promise<void> {
    const now = Date.now()
    for (const e of this.due()) {
      if (e.leaseHeld && now >= e.deadline) {
        this.lose(
          e,
          'clock',
          new LeaseLostError('the lease ran out before a heartbeat was acknowledged', {
            code: 'lease_lost',
            status: 0,
            executionId: e.id,
          }),
        )
      }
    }
    const leases = this.due()
    if (!leases.some((e) => this.beats.get(e)!.nextAt <= now)) return this.arm()
    this.inFlight = true
    try {
      // One request for every lease (in chunks of 100): those not due yet ride along for free.
      for (let i = 0; i < leases.length; i += LIMITS.maxBatchReports) {
        await this.beatChunk(leases.slice(i, i + LIMITS.maxBatchReports))
      }
    } finally {
      this.inFlight = false
      this.arm()
    }
  }

  private async beatChunk(chunk: Execution[]): Promise<void> {
    const sentAt = Date.now()
    const shortest = Math.min(...chunk.map((e) => this.interval(e)))
    try {
      const answer = await this.api.heartbeats(
        chunk.map((e) => ({ execution_id: e.id, lease_token: e.token, extend_seconds: e.extendSeconds })),
        { workerId: this.options.workerId, timeoutMs: Math.max(1000, Math.min(10_000, shortest)) },
      )
      const byId = new Map(answer.results.map((r) => [r.execution_id, r]))
      for (const e of chunk) {
        const result = byId.get(e.id)
        if (result === undefined) {
          this.later(e, new Error('the heartbeat answer left this lease out'))
        } else if ('error' in result) {
          const error = errorFromBody(result.error, { executionId: e.id })
          const cancelled = result.error.code === 'execution_cancelled'
          if (cancelled || LOST_CODES.has(result.error.code)) {
            // Also true of a lease whose outcome was just recorded: stop extending it either way.
            this.beats.delete(e)
            if (cancelled) this.cancel(e)
            else this.lose(e, 'server', error)
          } else this.later(e, error)
        } else {
          this.extended(e, sentAt, result.lease.remaining_ms)
        }
      }
    } catch (error) {
      this.sink.emitError(error)
      for (const e of chunk) this.later(e, errorOf(error))
    }
  }

  private later(execution: Execution, error: Error): void {
    const beat = this.beats.get(execution)
    if (!beat) return
    beat.failures++
    const delayMs = backoffDelay(beat.failures, { initialMs: 250, maxMs: this.interval(execution) })
    beat.nextAt = Date.now() + delayMs
    this.sink.emit('backoff', { operation: 'heartbeat', attempt: beat.failures, delayMs, error })
  }
}
