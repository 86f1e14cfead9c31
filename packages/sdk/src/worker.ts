import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import {
  type BatchOutcomeResponse,
  type ClaimedExecution,
  LeaseSeconds,
  LIMITS,
  TaskName,
  WorkerId,
} from '@cuekit/protocol'
import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts'
import { Client } from './client.ts'
import {
  ConflictError,
  CuekitError,
  ExecutionCancelledError,
  errorFromBody,
  isRetryable,
  LeaseLostError,
  NotFoundError,
  RateLimitError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts'
import { type PayloadSchema, validatePayload } from './schema.ts'
import type { BatchOutcomeInput, OutcomeInput } from './types.ts'

/**
 * Evidence a handler attaches to its outcome (CueAPI's fields), and the `result`.
 *
 * @example
 * ```ts
 * ctx.evidence({ external_id: 'msg_123', result_url: 'https://mail.example/msg_123', summary: 'sent' })
 * ```
 */
export type Evidence = Pick<
  OutcomeInput,
  | 'result'
  | 'metadata'
  | 'external_id'
  | 'result_url'
  | 'result_ref'
  | 'result_type'
  | 'summary'
  | 'artifacts'
>

/**
 * What a handler receives for one execution.
 *
 * @example
 * ```ts
 * const handler = async (ctx: HandlerContext<{ to: string }>) => {
 *   await sendEmail(ctx.payload.to, { idempotencyKey: ctx.executionId, signal: ctx.signal })
 * }
 * ```
 */
export interface HandlerContext<P = unknown> {
  /** Stable across retries and reclaims of this execution: the idempotency key to use. */
  readonly executionId: string
  /** The payload, parsed by the handler's schema when it has one. */
  readonly payload: P
  readonly task: string
  /** 1 on the first delivery; a retry or a reclaim after a lost lease increments it. */
  readonly attempt: number
  readonly maxAttempts: number
  readonly cueId: string | null
  readonly cueName: string | null
  readonly scheduledFor: string
  readonly workerId: string
  /**
   * The lease epoch: +1 on every claim of this execution. Pass it to your storage and refuse writes
   * carrying a smaller one, so a worker whose lease was lost cannot overwrite its successor.
   */
  readonly fencingToken: number
  /**
   * Aborts when the lease is lost, the execution is cancelled, or `worker.stop()` reaches its
   * deadline; `signal.reason` is a {@link LeaseLostError}, {@link ExecutionCancelledError} or
   * {@link WorkerStoppingError}. Pass it to `fetch`, child processes, database drivers.
   */
  readonly signal: AbortSignal
  /** The latest local time the lease is certainly still valid (a conservative estimate). */
  readonly leaseValidUntil: Date
  /** Extends the lease now (automatic heartbeats already do this at a third of the lease). */
  heartbeat(): Promise<void>
  /** Extends the lease to `seconds` from now; later automatic heartbeats keep that length. */
  extend(seconds: number): Promise<void>
  /** Attaches evidence (and optionally `result`) to the outcome this execution reports. */
  evidence(fields: Evidence): void
}

/**
 * A handler: receives the context, returns the result (any JSON value) or throws to fail.
 *
 * @example
 * ```ts
 * const resize: HandlerFunction = async (ctx) => {
 *   const { url } = ctx.payload as { url: string }
 *   return { thumbnail: await makeThumbnail(url, { signal: ctx.signal }) }
 * }
 * ```
 */
export type HandlerFunction<P = unknown> = (ctx: HandlerContext<P>) => unknown

/**
 * A handler whose payload is validated first; a payload the schema refuses is reported as a
 * non-retryable failure without running the handler.
 *
 * @example
 * ```ts
 * const sendEmail: SchemaHandler<{ to: string }> = {
 *   schema: z.object({ to: z.email() }),
 *   handler: async (ctx) => mailer.send(ctx.payload.to),
 * }
 * ```
 */
export interface SchemaHandler<P = unknown> {
  schema: PayloadSchema<P>
  handler: HandlerFunction<P>
}

/**
 * A handler, plain or with a payload schema.
 *
 * @example
 * ```ts
 * const handlers: Record<string, Handler> = { ping: async () => 'pong' }
 * ```
 */
export type Handler<P = unknown> = HandlerFunction<P> | SchemaHandler<P>

/**
 * Types a schema handler's payload from its schema, for handlers declared outside `new Worker`.
 *
 * @example
 * ```ts
 * const sendEmail = defineHandler({
 *   schema: z.object({ to: z.email() }),
 *   handler: async (ctx) => mailer.send(ctx.payload.to), // ctx.payload: { to: string }
 * })
 * new Worker({ apiKey, handlers: { 'send-email': sendEmail } })
 * ```
 */
export function defineHandler<P>(handler: SchemaHandler<P>): SchemaHandler<P> {
  return handler
}

/**
 * Throw it from a handler to fail the execution for good: no retry even if attempts remain.
 *
 * @example
 * ```ts
 * if (!user) throw new NonRetryableError(`user ${ctx.payload.userId} does not exist`)
 * ```
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
}

/**
 * Throw it from a handler to fail this attempt and ask for the next one after `retryAfterSeconds`
 * (instead of the execution's backoff schedule), e.g. when a downstream API says when to come back.
 *
 * @example
 * ```ts
 * if (response.status === 429) throw new RetryAfterError('rate limited upstream', Number(response.headers.get('retry-after')))
 * ```
 */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
}

/**
 * The reason `ctx.signal` aborts when `worker.stop()` reached its deadline before the handler
 * finished; the execution has been released for another worker.
 *
 * @example
 * ```ts
 * ctx.signal.addEventListener('abort', () => {
 *   if (ctx.signal.reason instanceof WorkerStoppingError) console.log('shutting down')
 * })
 * ```
 */
export class WorkerStoppingError extends CuekitError {
  override name = 'WorkerStoppingError'
  constructor(message = 'the worker is stopping; the execution was released') {
    super(message, { code: 'worker_stopping', status: 0 })
  }
}

/**
 * An execution as the worker's events describe it (never the lease token).
 *
 * @example
 * ```ts
 * worker.on('claimed', (e: ExecutionInfo) => log.info({ id: e.executionId, task: e.task, attempt: e.attempt }))
 * ```
 */
export interface ExecutionInfo {
  executionId: string
  task: string
  attempt: number
  maxAttempts: number
  cueId: string | null
  cueName: string | null
  fencingToken: number
}

/**
 * The events a {@link Worker} emits, for logs and metrics. `error` is only emitted when someone
 * listens to it, so an unobserved network blip never crashes the process.
 *
 * @example
 * ```ts
 * worker.on('completed', (e) => metrics.histogram('handler_ms', e.durationMs, { task: e.task }))
 * worker.on('failed', (e) => log.warn({ id: e.executionId, err: e.error.message, retry: e.retry }))
 * worker.on('error', (err) => log.error(err))
 * ```
 */
export interface WorkerEvents {
  /** A lease was granted; the handler starts now. */
  claimed: [ExecutionInfo]
  /** The handler returned. */
  completed: [ExecutionInfo & { result: unknown; durationMs: number }]
  /** The handler threw (or the payload failed its schema). `retry` is false for a final failure. */
  failed: [ExecutionInfo & { error: Error; retry: boolean; durationMs: number }]
  /** The server recorded the outcome. */
  reported: [ExecutionInfo & { success: boolean; status: string }]
  /** The lease is gone (expired or taken over); `ctx.signal` was aborted if the handler was running. */
  lease_lost: [ExecutionInfo & { error: Error }]
  /** The execution was cancelled while the handler ran; `ctx.signal` was aborted. */
  cancelled: [ExecutionInfo]
  /** The lease was given back: at the stop deadline, after a cancel, or for a task without a handler. */
  released: [ExecutionInfo & { reason: 'stopping' | 'cancelled' | 'lease_lost' | 'no_handler' }]
  /** A request failed and will be retried after `delayMs`. */
  backoff: [{ operation: 'claim' | 'heartbeat' | 'report'; attempt: number; delayMs: number; error: Error }]
  /** Anything worth a log line: failed requests, outcomes that could not be reported, throwing listeners. */
  error: [Error]
  /** `stop()` finished. */
  stopped: []
}

/**
 * Options of a {@link Worker}.
 *
 * @example
 * ```ts
 * const options: WorkerOptions = { apiKey: 'cue_sk_...', concurrency: 4, handlers: { ping: async () => 'pong' } }
 * ```
 */
export interface WorkerOptions<T = Record<string, unknown>> {
  /** Default `http://127.0.0.1:8080`. */
  baseUrl?: string
  apiKey?: string
  /** Unique per process. Default `<hostname>-<pid>`. */
  workerId?: string
  /** Handlers running at once. Default 1. */
  concurrency?: number
  /** Task name → handler. The worker claims only these tasks (at most 50). */
  handlers: { [K in keyof T]: Handler<T[K]> }
  /** Lease length requested on claim, in seconds; default the server's (900). */
  leaseSeconds?: number
  /** How long one claim request waits for work (long-poll), 0–30 s. Default 20. */
  waitSeconds?: number
  /**
   * Pause after a claim that came back empty well before its wait (a server shutting down, or one
   * without long-polls), in ms. Default 1000.
   */
  idleDelayMs?: number
  /** Fixed heartbeat period in ms; default a third of each lease. */
  heartbeatIntervalMs?: number
  /** Backoff while the server is unreachable. Default 500 ms doubling to 30 s, jittered. */
  backoff?: BackoffOptions
  /** How often the worker announces itself and its handlers (`POST /v1/worker/heartbeat`); 0 never. Default 60 000. */
  announceIntervalMs?: number
  /** Default deadline of `stop()`, in ms. Default 30 000. */
  stopTimeoutMs?: number
  /**
   * Claim requests in flight at once, each for its share of the free slots. Default 2 from a
   * concurrency of 8 (claims overlap instead of waiting for each other), else 1.
   */
  parallelClaims?: number
  /** Per-request timeout in ms (long-polls add their wait). Default 30 000. */
  requestTimeoutMs?: number
  /** A `fetch` implementation; default a keep-alive `node:http` transport (cheaper than the global `fetch`). */
  fetch?: typeof globalThis.fetch
}

interface Active {
  readonly execution: ClaimedExecution
  readonly info: ExecutionInfo
  /** Made when a handler first reads `ctx.signal` (most never do); see signalOf. */
  controller: AbortController | null
  /** Why the handler's signal aborted, when that happened before anyone read it. */
  abortReason: unknown
  phase: 'running' | 'reporting' | 'done'
  /** The lease's own length, and the length a handler asked for with `ctx.extend`. */
  leaseSeconds: number
  extendSeconds: number | undefined
  /** Local time before which the lease is certainly valid (request send time + remaining). */
  deadline: number
  nextBeatAt: number
  beatFailures: number
  /** `server`: the server said so; `local`: the deadline passed without an acknowledged extension. */
  lost: 'server' | 'local' | null
  cancelled: boolean
  /** Released at the stop deadline: whatever the handler does next is ignored. */
  released: boolean
  /** False once the server said the lease cannot be extended any more (gone or cancelled). */
  extendable: boolean
  evidence: Evidence
}

interface PendingReport {
  active: Active
  body: BatchOutcomeInput
  attempts: number
}

/** The handler's abort signal, made on first use: an AbortController per execution is measurable. */
function signalOf(active: Active): AbortSignal {
  if (!active.controller) {
    active.controller = new AbortController()
    if (active.abortReason !== undefined) active.controller.abort(active.abortReason)
  }
  return active.controller.signal
}

function abortActive(active: Active, reason: unknown): void {
  if (active.abortReason !== undefined) return
  active.abortReason = reason
  active.controller?.abort(reason)
}

/** Codes of a heartbeat or report answer that mean the lease is gone for good. */
const LOST_CODES = new Set([
  'lease_lost',
  'execution_not_claiming',
  'execution_not_found',
  'not_execution_owner',
])

function errorOf(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : String(value))
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s
}

/**
 * Runs handlers for claimed executions: long-poll claims in batches up to the free slots, one
 * batched heartbeat request for all leases at a third of the lease, outcomes coalesced into batch
 * reports and retried safely with the lease token, jittered backoff while the server is away, and a
 * graceful {@link Worker.stop}.
 *
 * @example
 * ```ts
 * import { Worker } from '@cuekit/sdk'
 * import { z } from 'zod'
 *
 * const worker = new Worker({
 *   baseUrl: 'http://127.0.0.1:8080',
 *   apiKey: process.env.CUEKIT_API_KEY,
 *   concurrency: 8,
 *   handlers: {
 *     'send-email': {
 *       schema: z.object({ to: z.email() }),
 *       handler: async (ctx) => mailer.send(ctx.payload.to, { idempotencyKey: ctx.executionId }),
 *     },
 *   },
 * })
 * worker.on('failed', (e) => console.warn(e.executionId, e.error.message))
 * await worker.start()
 * process.once('SIGTERM', () => void worker.stop({ timeoutMs: 30_000 }))
 * ```
 */
export class Worker<T = Record<string, unknown>> extends EventEmitter<WorkerEvents> {
  readonly workerId: string
  readonly client: Client
  readonly concurrency: number
  private readonly handlers: Record<string, Handler<unknown>>
  private readonly tasks: string[]
  private readonly leaseSeconds: number | undefined
  private readonly waitSeconds: number
  private readonly idleDelayMs: number
  private readonly heartbeatIntervalMs: number | undefined
  private readonly backoff: BackoffOptions
  private readonly announceIntervalMs: number
  private readonly stopTimeoutMs: number

  private readonly active = new Map<string, Active>()
  private running = 0
  private started = false
  private stopping = false
  private stopPromise: Promise<void> | null = null
  private readonly stopController = new AbortController()
  private loop: Promise<void> | null = null
  private slotWaiters: (() => void)[] = []
  private idleWaiters: (() => void)[] = []
  private announceTimer: NodeJS.Timeout | undefined

  private beatTimer: NodeJS.Timeout | undefined
  private beatInFlight = false

  private readonly reports: PendingReport[] = []
  private reporting = false
  private pumpScheduled = false
  /** Slots promised to claims in flight. */
  private reserved = 0
  /** Claim loops about to send a claim (which will carry the queued outcomes). */
  private claimsComing = 0
  private readonly claimLoops: number
  private reportFailures = 0
  private reportRetryAt = 0
  private reportTimer: NodeJS.Timeout | undefined
  private drainWaiters: (() => void)[] = []

  constructor(options: WorkerOptions<T>) {
    super()
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}`
    this.concurrency = options.concurrency ?? 1
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError('concurrency must be a positive integer')
    }
    this.handlers = options.handlers as Record<string, Handler<unknown>>
    this.tasks = Object.keys(this.handlers)
    if (this.tasks.length === 0) throw new RangeError('a worker needs at least one handler')
    if (this.tasks.length > 50) throw new RangeError('a worker claims at most 50 tasks; run several workers')
    // Refuse here what the server would refuse on every claim, rather than back off forever.
    for (const task of this.tasks) {
      if (!TaskName.safeParse(task).success) throw new RangeError(`invalid task name ${JSON.stringify(task)}`)
    }
    if (!WorkerId.safeParse(this.workerId).success) {
      throw new RangeError(`invalid workerId ${JSON.stringify(this.workerId)}: 1-200 printable characters`)
    }
    if (options.leaseSeconds !== undefined && !LeaseSeconds.safeParse(options.leaseSeconds).success) {
      throw new RangeError(`leaseSeconds must be an integer from 1 to ${LIMITS.maxLeaseSeconds}`)
    }
    this.leaseSeconds = options.leaseSeconds
    this.waitSeconds = Math.max(0, Math.min(options.waitSeconds ?? 20, LIMITS.maxWaitSeconds))
    this.idleDelayMs = options.idleDelayMs ?? 1000
    this.heartbeatIntervalMs = options.heartbeatIntervalMs
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 }
    this.announceIntervalMs = options.announceIntervalMs ?? 60_000
    this.stopTimeoutMs = options.stopTimeoutMs ?? 30_000
    this.claimLoops = Math.max(
      1,
      Math.min(options.parallelClaims ?? (this.concurrency >= 8 ? 2 : 1), this.concurrency),
    )
    // The worker schedules its own retries (and reports them as events), so the client does not.
    this.client = new Client({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.requestTimeoutMs,
      maxRetries: 0,
      fetch: options.fetch,
    })
  }

  /** Executions whose handler is running now. */
  get inFlight(): number {
    return this.running
  }

  /** True between `start()` and the end of `stop()`. */
  get isRunning(): boolean {
    return this.started && this.stopPromise === null
  }

  /**
   * Announces the worker and starts claiming. Rejects only when the API key is refused; an
   * unreachable server is retried in the background with backoff.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('this worker was already started')
    this.started = true
    try {
      await this.announce()
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        this.stopping = true
        this.stopPromise = Promise.resolve()
        throw error
      }
      this.report(error)
    }
    if (this.announceIntervalMs > 0) {
      this.announceTimer = setInterval(() => {
        this.announce().catch((error: unknown) => this.report(error))
      }, this.announceIntervalMs)
      this.announceTimer.unref()
    }
    this.loop = Promise.all(Array.from({ length: this.claimLoops }, () => this.claimLoop())).then(() => {})
  }

  /**
   * Stops claiming, lets running handlers finish until the deadline, then aborts the rest
   * (`ctx.signal`, reason {@link WorkerStoppingError}) and releases their leases so another worker
   * takes them at once. Outcomes not yet reported get at least 5 more seconds. Safe to call twice.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopPromise ??= this.shutdown(options.timeoutMs ?? this.stopTimeoutMs)
    return this.stopPromise
  }

  // ------------------------------------------------------------------ events

  private emitSafely<K extends keyof WorkerEvents>(event: K, ...args: WorkerEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return
    try {
      ;(this.emit as (e: K, ...a: WorkerEvents[K]) => boolean)(event, ...args)
    } catch (error) {
      if (event !== 'error') this.report(error)
    }
  }

  private report(error: unknown): void {
    this.emitSafely('error', errorOf(error))
  }

  private async announce(): Promise<void> {
    await this.client.workers.heartbeat(
      { worker_id: this.workerId, handlers: this.tasks },
      { timeoutMs: 10_000, signal: this.stopController.signal },
    )
  }

  // ------------------------------------------------------------------ claiming

  private async claimLoop(): Promise<void> {
    const stop = this.stopController.signal
    // With several loops each claims its share of the slots, so claims overlap on the wire.
    const share = Math.ceil(this.concurrency / this.claimLoops)
    let failures = 0
    while (!this.stopping) {
      const free = this.concurrency - this.running - this.reserved
      if (free <= 0) {
        this.claimsComing++
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
        // Handlers that finish together free their slots in the same turn of the event loop:
        // let them all land, so the next claim asks for all of them at once, not one at a time.
        await new Promise<void>((resolve) => setImmediate(resolve))
        this.claimsComing--
        continue
      }
      const max = Math.min(free, share, LIMITS.maxClaimBatch)
      this.reserved += max
      // Finished executions' outcomes ride along: one round trip reports and asks for more.
      const outcomes = this.takeReports()
      const sentAt = Date.now()
      try {
        const answer = await this.client.executions.claim(
          {
            worker_id: this.workerId,
            task: this.tasks,
            max,
            // Outcomes must not wait out a long-poll for their answer.
            wait_seconds: outcomes.length > 0 ? 0 : this.waitSeconds,
            lease_seconds: this.leaseSeconds,
            ...(outcomes.length > 0 ? { outcomes: outcomes.map((item) => item.body) } : {}),
          },
          { signal: stop },
        )
        this.reserved -= max
        failures = 0
        if (outcomes.length > 0) this.applyResults(outcomes, answer.results ?? [])
        for (const execution of answer.executions) this.launch(execution, sentAt)
        const early = this.waitSeconds === 0 || Date.now() - sentAt < this.waitSeconds * 500
        if (answer.executions.length === 0 && early && outcomes.length === 0) {
          await sleep(this.idleDelayMs * (0.5 + Math.random() / 2), stop)
        }
      } catch (error) {
        this.reserved -= max
        if (outcomes.length > 0) this.retryReports(outcomes, errorOf(error))
        if (this.stopping) break
        failures++
        let delayMs = backoffDelay(failures, this.backoff)
        if (error instanceof RateLimitError && error.retryAfter !== null) {
          delayMs = Math.max(delayMs, error.retryAfter * 1000)
        }
        this.report(error)
        this.emitSafely('backoff', { operation: 'claim', attempt: failures, delayMs, error: errorOf(error) })
        await sleep(delayMs, stop)
      } finally {
        if (outcomes.length > 0) this.pumpReports()
      }
    }
  }

  /** Queued outcomes a claim about to be sent can carry (none while reports back off). */
  private takeReports(): PendingReport[] {
    if (this.reports.length === 0 || Date.now() < this.reportRetryAt) return []
    const taken = this.reports.splice(0, LIMITS.maxBatchReports)
    for (const item of taken) item.attempts++
    return taken
  }

  private wakeSlotWaiters(): void {
    const waiters = this.slotWaiters
    this.slotWaiters = []
    for (const wake of waiters) wake()
  }

  private launch(execution: ClaimedExecution, sentAt: number): void {
    const leaseSeconds = execution.lease.lease_seconds
    const info: ExecutionInfo = {
      executionId: execution.execution_id,
      task: execution.task,
      attempt: execution.attempt,
      maxAttempts: execution.max_attempts,
      cueId: execution.cue_id,
      cueName: execution.cue_name,
      fencingToken: execution.lease.epoch,
    }
    const active: Active = {
      execution,
      info,
      controller: null,
      abortReason: undefined,
      phase: 'running',
      leaseSeconds,
      extendSeconds: undefined,
      deadline: sentAt + leaseSeconds * 1000,
      nextBeatAt: 0,
      beatFailures: 0,
      lost: null,
      cancelled: false,
      released: false,
      extendable: true,
      evidence: {},
    }
    active.nextBeatAt = sentAt + this.beatInterval(active)
    this.active.set(execution.execution_id, active)
    this.running++
    if (this.stopping) {
      // The claim answered just as stop() began: hand the execution straight back.
      active.released = true
      void this.release(active, 'stopping').finally(() => this.handlerDone())
      return
    }
    this.emitSafely('claimed', info)
    this.armHeartbeat()
    void this.execute(active)
      .catch((error: unknown) => {
        this.report(error)
        this.finish(active)
      })
      .finally(() => this.handlerDone())
  }

  private handlerDone(): void {
    this.running--
    this.wakeSlotWaiters()
    if (this.running === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const wake of waiters) wake()
    }
  }

  // ------------------------------------------------------------------ running handlers

  private context(active: Active, payload: unknown): HandlerContext<unknown> {
    const { execution } = active
    const extendNow = async (seconds: number | undefined) => {
      const sentAt = Date.now()
      try {
        const answer = await this.client.executions.heartbeat(
          execution.execution_id,
          { lease_token: execution.lease.token, extend_seconds: seconds, worker_id: this.workerId },
          { timeoutMs: 10_000 },
        )
        this.extended(active, sentAt, answer.lease.remaining_ms)
      } catch (error) {
        if (error instanceof ExecutionCancelledError) this.cancelled(active)
        else if (error instanceof CuekitError && LOST_CODES.has(error.code))
          this.lose(active, 'server', error)
        throw error
      }
    }
    return {
      executionId: execution.execution_id,
      payload,
      task: execution.task,
      attempt: execution.attempt,
      maxAttempts: execution.max_attempts,
      cueId: execution.cue_id,
      cueName: execution.cue_name,
      scheduledFor: execution.scheduled_for,
      workerId: this.workerId,
      fencingToken: execution.lease.epoch,
      get signal() {
        return signalOf(active)
      },
      get leaseValidUntil() {
        return new Date(active.deadline)
      },
      heartbeat: () => extendNow(active.extendSeconds),
      extend: (seconds: number) => {
        active.extendSeconds = seconds
        return extendNow(seconds)
      },
      evidence: (fields: Evidence) => {
        active.evidence = { ...active.evidence, ...fields }
      },
    }
  }

  private async execute(active: Active): Promise<void> {
    const { execution, info } = active
    const definition = this.handlers[execution.task]
    if (definition === undefined) {
      await this.release(active, 'no_handler', 5)
      return
    }
    const started = performance.now()
    let outcome: Omit<BatchOutcomeInput, 'execution_id' | 'lease_token'>
    try {
      let payload = execution.payload
      const fn = typeof definition === 'function' ? definition : definition.handler
      if (typeof definition !== 'function') {
        const checked = await validatePayload(definition.schema, payload)
        if (!checked.ok)
          throw new NonRetryableError(`the payload does not match the schema: ${checked.message}`)
        payload = checked.value
      }
      const result = await fn(this.context(active, payload))
      const durationMs = performance.now() - started
      this.emitSafely('completed', { ...info, result, durationMs })
      outcome = { result, ...active.evidence, success: true }
      if (outcome.result === undefined) delete outcome.result
    } catch (thrown) {
      const error = errorOf(thrown)
      const retry = !(thrown instanceof NonRetryableError)
      this.emitSafely('failed', { ...info, error, retry, durationMs: performance.now() - started })
      outcome = {
        ...active.evidence,
        success: false,
        error: clip(error.message || error.name, LIMITS.maxErrorLength),
      }
      if (!retry) outcome.retry = false
      if (thrown instanceof RetryAfterError) outcome.retry_after_seconds = thrown.retryAfterSeconds
      if (active.released) return this.finish(active)
      if (active.cancelled) return this.release(active, 'cancelled')
      if (active.lost === 'server') return this.finish(active)
      // Our clock says the lease ran out, the server may disagree: give it back rather than
      // spend an attempt on a failure the handler only had because we aborted it.
      if (active.lost === 'local') return this.release(active, 'lease_lost')
    }
    if (active.released || active.lost === 'server') return this.finish(active)
    active.phase = 'reporting'
    this.reports.push({
      active,
      body: { ...outcome, execution_id: execution.execution_id, lease_token: execution.lease.token },
      attempts: 0,
    })
    this.schedulePump()
  }

  /** Outcomes that finish in the same turn of the event loop go out in one request. */
  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      // A claim about to go out carries them; otherwise they go on their own.
      if (this.claimsComing > 0 && !this.stopping) return
      this.pumpReports()
    })
  }

  private finish(active: Active): void {
    active.phase = 'done'
    this.active.delete(active.execution.execution_id)
    this.armHeartbeat()
  }

  private lose(active: Active, how: 'server' | 'local', error: Error): void {
    if (active.phase !== 'running' || active.lost !== null || active.released) return
    active.lost = how
    abortActive(active, error)
    this.emitSafely('lease_lost', { ...active.info, error })
  }

  private cancelled(active: Active): void {
    if (active.phase !== 'running' || active.cancelled || active.released) return
    active.cancelled = true
    abortActive(
      active,
      new ExecutionCancelledError('the execution was cancelled', {
        code: 'execution_cancelled',
        status: 409,
        executionId: active.execution.execution_id,
      }),
    )
    this.emitSafely('cancelled', active.info)
  }

  private async release(
    active: Active,
    reason: 'stopping' | 'cancelled' | 'lease_lost' | 'no_handler',
    delaySeconds?: number,
  ): Promise<void> {
    const { execution } = active
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.client.executions.release(
            execution.execution_id,
            { lease_token: execution.lease.token, delay_seconds: delaySeconds },
            { timeoutMs: 10_000 },
          )
          this.emitSafely('released', { ...active.info, reason })
          return
        } catch (error) {
          // A lease that is already gone needs no release.
          if (error instanceof ConflictError || error instanceof NotFoundError) return
          if (!isRetryable(error) || attempt >= 3) throw error
          await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 2000 }))
        }
      }
    } catch (error) {
      this.report(error)
    } finally {
      this.finish(active)
    }
  }

  // ------------------------------------------------------------------ heartbeats

  private beatInterval(active: Active): number {
    return this.heartbeatIntervalMs ?? ((active.extendSeconds ?? active.leaseSeconds) * 1000) / 3
  }

  private extended(active: Active, sentAt: number, remainingMs: number): void {
    active.deadline = sentAt + remainingMs
    active.nextBeatAt = sentAt + this.beatInterval(active)
    active.beatFailures = 0
    this.armHeartbeat()
  }

  /** Leases worth extending: running ones still ours, and those whose outcome is on its way. */
  private beating(): Active[] {
    return [...this.active.values()].filter(
      (a) =>
        a.extendable &&
        !a.released &&
        !a.cancelled &&
        a.lost === null &&
        (a.phase === 'running' || (a.phase === 'reporting' && Date.now() < a.deadline)),
    )
  }

  private armHeartbeat(): void {
    clearTimeout(this.beatTimer)
    this.beatTimer = undefined
    if (this.beatInFlight) return
    let next = Number.POSITIVE_INFINITY
    for (const a of this.beating()) {
      next = Math.min(next, a.nextBeatAt)
      if (a.phase === 'running') next = Math.min(next, a.deadline)
    }
    if (next === Number.POSITIVE_INFINITY) return
    this.beatTimer = setTimeout(() => void this.beat(), Math.max(0, next - Date.now()))
  }

  private async beat(): Promise<void> {
    const now = Date.now()
    for (const a of this.beating()) {
      if (a.phase === 'running' && now >= a.deadline) {
        this.lose(
          a,
          'local',
          new LeaseLostError('the lease ran out before a heartbeat was acknowledged', {
            code: 'lease_lost',
            status: 0,
            executionId: a.execution.execution_id,
          }),
        )
      }
    }
    const leases = this.beating()
    if (!leases.some((a) => a.nextBeatAt <= now)) return this.armHeartbeat()
    this.beatInFlight = true
    try {
      // One request for every lease (in chunks of 100): those not due yet ride along for free.
      for (let i = 0; i < leases.length; i += LIMITS.maxBatchReports) {
        await this.beatChunk(leases.slice(i, i + LIMITS.maxBatchReports))
      }
    } finally {
      this.beatInFlight = false
      this.armHeartbeat()
    }
  }

  private async beatChunk(chunk: Active[]): Promise<void> {
    const sentAt = Date.now()
    const shortest = Math.min(...chunk.map((a) => this.beatInterval(a)))
    try {
      const answer = await this.client.executions.heartbeats(
        chunk.map((a) => ({
          execution_id: a.execution.execution_id,
          lease_token: a.execution.lease.token,
          extend_seconds: a.extendSeconds,
        })),
        { workerId: this.workerId, timeoutMs: Math.max(1000, Math.min(10_000, shortest)) },
      )
      const byId = new Map(answer.results.map((r) => [r.execution_id, r]))
      for (const a of chunk) {
        const result = byId.get(a.execution.execution_id)
        if (result === undefined) {
          this.beatLater(a, new Error('the heartbeat answer left this lease out'))
        } else if ('error' in result) {
          const error = errorFromBody(result.error, { executionId: a.execution.execution_id })
          const cancelled = result.error.code === 'execution_cancelled'
          if (cancelled || LOST_CODES.has(result.error.code)) {
            // Also true of a lease whose outcome was just recorded: stop extending it either way.
            a.extendable = false
            if (cancelled) this.cancelled(a)
            else this.lose(a, 'server', error)
          } else this.beatLater(a, error)
        } else {
          this.extended(a, sentAt, result.lease.remaining_ms)
        }
      }
    } catch (error) {
      this.report(error)
      for (const a of chunk) this.beatLater(a, errorOf(error))
    }
  }

  private beatLater(active: Active, error: Error): void {
    active.beatFailures++
    const delayMs = backoffDelay(active.beatFailures, { initialMs: 250, maxMs: this.beatInterval(active) })
    active.nextBeatAt = Date.now() + delayMs
    this.emitSafely('backoff', { operation: 'heartbeat', attempt: active.beatFailures, delayMs, error })
  }

  // ------------------------------------------------------------------ outcome reports

  /**
   * Sends queued outcomes, one request at a time: a lone outcome goes out at once, and outcomes
   * that finish while a request is in flight share the next one (coalescing under load).
   */
  private pumpReports(): void {
    if (this.reporting) return
    if (this.reports.length === 0) {
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const wake of waiters) wake()
      return
    }
    const wait = this.reportRetryAt - Date.now()
    if (wait > 0) {
      clearTimeout(this.reportTimer)
      this.reportTimer = setTimeout(() => this.pumpReports(), wait)
      return
    }
    this.reporting = true
    const batch = this.reports.splice(0, LIMITS.maxBatchReports)
    void this.send(batch).finally(() => {
      this.reporting = false
      this.pumpReports()
    })
  }

  private async send(batch: PendingReport[]): Promise<void> {
    for (const item of batch) item.attempts++
    try {
      if (batch.length === 1) {
        const [item] = batch as [PendingReport]
        const { execution_id, ...body } = item.body
        try {
          const answer = await this.client.executions.reportOutcome(execution_id, body, { timeoutMs: 15_000 })
          this.recorded(item, answer.status)
        } catch (error) {
          if (isRetryable(error)) throw error
          this.refused(item, errorOf(error))
        }
      } else {
        let answer: Awaited<ReturnType<Client['executions']['reportOutcomes']>>
        try {
          answer = await this.client.executions.reportOutcomes(
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
        this.applyResults(batch, answer.results)
      }
      this.reportFailures = 0
    } catch (error) {
      this.report(error)
      this.retryReports(batch, errorOf(error))
    }
  }

  /** Settles reports from a batch answer (outcomes endpoint, or a claim that carried them). */
  private applyResults(batch: PendingReport[], results: BatchOutcomeResponse['results']): void {
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
    if (again.length > 0) this.retryReports(again, new Error('some outcomes were not recorded'))
  }

  private retryReports(items: PendingReport[], error: Error): void {
    this.reportFailures++
    const delayMs = backoffDelay(this.reportFailures, { initialMs: 250, maxMs: 10_000 })
    this.reportRetryAt = Date.now() + delayMs
    this.emitSafely('backoff', { operation: 'report', attempt: this.reportFailures, delayMs, error })
    const keep: PendingReport[] = []
    for (const item of items) {
      // Past its lease (plus a minute for a response that was lost), a retry could only learn
      // that the report was refused: the execution has been reaped and belongs to someone else.
      if (Date.now() > item.active.deadline + 60_000) {
        this.report(
          new CuekitError(`gave up reporting the outcome of ${item.body.execution_id}: ${error.message}`, {
            code: 'outcome_not_reported',
            status: 0,
            executionId: item.body.execution_id,
            cause: error,
          }),
        )
        this.finish(item.active)
      } else keep.push(item)
    }
    this.reports.unshift(...keep)
  }

  private recorded(item: PendingReport, status: string): void {
    this.emitSafely('reported', { ...item.active.info, success: item.body.success, status })
    this.finish(item.active)
  }

  private refused(item: PendingReport, error: Error): void {
    if (error instanceof CuekitError && LOST_CODES.has(error.code)) {
      // Already announced when the handler was aborted for it.
      if (item.active.lost === null) this.emitSafely('lease_lost', { ...item.active.info, error })
    } else {
      this.report(error)
    }
    this.finish(item.active)
  }

  // ------------------------------------------------------------------ stopping

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    this.stopping = true
    this.stopController.abort()
    clearInterval(this.announceTimer)
    this.wakeSlotWaiters()
    await this.loop
    if (this.running > 0) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve))
      const timer = new AbortController()
      await Promise.race([idle, sleep(deadline - Date.now(), timer.signal)])
      timer.abort()
    }
    const unfinished = [...this.active.values()].filter((a) => a.phase === 'running' && !a.released)
    await Promise.all(
      unfinished.map((a) => {
        a.released = true
        abortActive(a, new WorkerStoppingError())
        return this.release(a, 'stopping')
      }),
    )
    if (this.reports.length > 0 || this.reporting) {
      const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve))
      const timer = new AbortController()
      await Promise.race([drained, sleep(Math.max(deadline - Date.now(), 5000), timer.signal)])
      timer.abort()
    }
    for (const item of this.reports.splice(0)) {
      this.report(
        new CuekitError(`stopped before the outcome of ${item.body.execution_id} was recorded`, {
          code: 'outcome_not_reported',
          status: 0,
          executionId: item.body.execution_id,
        }),
      )
    }
    clearTimeout(this.reportTimer)
    clearTimeout(this.beatTimer)
    this.beatTimer = undefined
    this.active.clear()
    this.emitSafely('stopped')
  }
}
