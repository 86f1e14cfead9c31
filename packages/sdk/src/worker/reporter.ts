import { type BatchOutcomeResponse, LIMITS } from '@cuekit/protocol'
import { backoffDelay } from '../backoff.ts'
import type { ExecutionsApi } from '../client/executions.ts'
import { CuekitError, errorFromBody, isRetryable, ValidationError } from '../errors.ts'
import type { BatchOutcomeInput } from '../types.ts'
import { errorOf, eventOf, type WorkerSink } from './events.ts'
import type { Execution } from './execution.ts'
import { LOST_CODES } from './lease-keeper.ts'

/** The calls the reporter makes. */
export type ReportApi = Pick<ExecutionsApi, 'reportOutcome' | 'reportOutcomes'>

/** An outcome waiting for the server to record it. */
export interface PendingReport {
  execution: Execution
  body: BatchOutcomeInput
  attempts: number
}

export interface ReporterHooks extends WorkerSink {
  /** True when a claim about to be sent will carry the queued outcomes (so they need no request). */
  claimComing(): boolean
  /** The execution needs nothing more: its outcome was recorded, refused, or given up on. */
  finished(execution: Execution): void
}

/**
 * Reports outcomes: a lone outcome goes out at once, outcomes that finish while a request is in
 * flight share the next one (coalescing under load), and a claim about to be sent carries them
 * instead (see {@link Reporter.take}). A report whose answer was lost is sent again with the same
 * lease token: the server answers a repeated report with its first answer, so it is recorded once.
 */
export class Reporter {
  private readonly queue: PendingReport[] = []
  private sending = false
  private pumpScheduled = false
  private failures = 0
  private retryAt = 0
  private timer: NodeJS.Timeout | undefined
  private drainWaiters: (() => void)[] = []

  constructor(
    private readonly api: ReportApi,
    private readonly hooks: ReporterHooks,
  ) {}

  /** Outcomes not yet recorded (queued or on the wire). */
  get pending(): boolean {
    return this.queue.length > 0 || this.sending
  }

  /** Queues an execution's outcome; outcomes added in the same turn of the event loop share a request. */
  add(execution: Execution, outcome: Omit<BatchOutcomeInput, 'execution_id' | 'lease_token'>): void {
    // The outcome is the handler's own new object: its ids go in place. A copy (`{ ...outcome, ids }`)
    // takes V8's slow path, ≈ 2 µs per outcome (see eventOf).
    const body = outcome as BatchOutcomeInput
    body.execution_id = execution.id
    body.lease_token = execution.token
    this.queue.push({ execution, body, attempts: 0 })
    this.pumpSoon()
  }

  /**
   * Sends what is queued on the next turn of the event loop, unless a claim is about to carry it.
   * Outcomes backing off are the reporter's to send when the backoff ends: no claim wakes for them.
   */
  pumpSoon(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      if (!this.hooks.claimComing() || !this.ready()) this.pump()
    })
  }

  /** True when a claim sent now would carry outcomes. */
  ready(): boolean {
    return this.queue.length > 0 && Date.now() >= this.retryAt
  }

  /** Queued outcomes a claim about to be sent can carry (none while reports back off). */
  take(): PendingReport[] {
    if (!this.ready()) return []
    const taken = this.queue.splice(0, LIMITS.maxBatchReports)
    for (const item of taken) item.attempts++
    return taken
  }

  /** Sends queued outcomes, one request at a time. */
  pump(): void {
    if (this.sending) return
    if (this.queue.length === 0) {
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const wake of waiters) wake()
      return
    }
    const wait = this.retryAt - Date.now()
    if (wait > 0) {
      clearTimeout(this.timer)
      this.timer = setTimeout(() => this.pump(), wait)
      return
    }
    this.sending = true
    const batch = this.queue.splice(0, LIMITS.maxBatchReports)
    void this.send(batch).finally(() => {
      this.sending = false
      this.pump()
    })
  }

  /**
   * Sends what is queued and resolves when every outcome has been answered. It pumps itself:
   * outcomes left for a claim that will not come (the worker stopped claiming) go out now.
   */
  drained(): Promise<void> {
    if (!this.pending) return Promise.resolve()
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve))
    this.pump()
    return drained
  }

  /** Gives up on what is still queued (the worker is stopping): one error per outcome. */
  abandon(): void {
    for (const item of this.queue.splice(0)) {
      this.hooks.emitError(
        new CuekitError(`stopped before the outcome of ${item.body.execution_id} was recorded`, {
          code: 'outcome_not_reported',
          status: 0,
          executionId: item.body.execution_id,
        }),
      )
    }
    clearTimeout(this.timer)
  }

  /** Settles reports from a batch answer (the outcomes endpoint, or a claim that carried them). */
  settle(batch: PendingReport[], results: BatchOutcomeResponse['results']): void {
    const byId = new Map(results.map((r) => [r.execution_id, r]))
    const again: PendingReport[] = []
    for (const item of batch) {
      const result = byId.get(item.body.execution_id)
      if (result === undefined) again.push(item)
      else if ('error' in result) {
        const error = errorFromBody(result.error, { executionId: item.body.execution_id })
        if (isRetryable(error)) again.push(item)
        else this.refused(item, error)
      } else this.recorded(item, result.status)
    }
    if (again.length > 0) this.retry(again, new Error('some outcomes were not recorded'))
  }

  /** Puts reports back at the head of the queue, after a backoff shared by all reports. */
  retry(items: PendingReport[], error: Error): void {
    this.failures++
    const delayMs = backoffDelay(this.failures, { initialMs: 250, maxMs: 10_000 })
    this.retryAt = Date.now() + delayMs
    this.hooks.emit('backoff', { operation: 'report', attempt: this.failures, delayMs, error })
    const keep: PendingReport[] = []
    for (const item of items) {
      // Past its lease (plus a minute for a response that was lost), a retry could only learn
      // that the report was refused: the execution has been reaped and belongs to someone else.
      if (Date.now() > item.execution.deadline + 60_000) {
        this.hooks.emitError(
          new CuekitError(`gave up reporting the outcome of ${item.body.execution_id}: ${error.message}`, {
            code: 'outcome_not_reported',
            status: 0,
            executionId: item.body.execution_id,
            cause: error,
          }),
        )
        this.hooks.finished(item.execution)
      } else keep.push(item)
    }
    this.queue.unshift(...keep)
  }

  private async send(batch: PendingReport[]): Promise<void> {
    for (const item of batch) item.attempts++
    try {
      if (batch.length === 1) {
        const [item] = batch as [PendingReport]
        const { execution_id, ...body } = item.body
        try {
          const answer = await this.api.reportOutcome(execution_id, body, { timeoutMs: 15_000 })
          this.recorded(item, answer.status)
        } catch (error) {
          if (isRetryable(error)) throw error
          this.refused(item, errorOf(error))
        }
      } else {
        let answer: BatchOutcomeResponse
        try {
          answer = await this.api.reportOutcomes(
            batch.map((item) => item.body),
            { timeoutMs: 15_000 },
          )
        } catch (error) {
          // One invalid item fails the whole batch: report them one by one to isolate it.
          if (error instanceof ValidationError) {
            for (const item of batch) await this.send([item])
            return
          }
          throw error
        }
        this.settle(batch, answer.results)
      }
      this.failures = 0
    } catch (error) {
      this.hooks.emitError(error)
      this.retry(batch, errorOf(error))
    }
  }

  private recorded(item: PendingReport, status: string): void {
    if (this.hooks.listening?.('reported') ?? true) {
      this.hooks.emit('reported', eventOf(item.execution.info, { success: item.body.success, status }))
    }
    this.hooks.finished(item.execution)
  }

  private refused(item: PendingReport, error: Error): void {
    if (error instanceof CuekitError && LOST_CODES.has(error.code)) {
      // Already announced when the handler was aborted for it.
      if (item.execution.lostBy === null) this.hooks.emit('lost', eventOf(item.execution.info, { error }))
    } else {
      this.hooks.emitError(error)
    }
    this.hooks.finished(item.execution)
  }
}
