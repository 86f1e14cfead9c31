import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { type ClaimedExecution, LeaseSeconds, LIMITS, TaskName, WorkerId } from '@cuekit/protocol'
import { type BackoffOptions, sleep } from './backoff.ts'
import { Client } from './client.ts'
import { UnauthorizedError } from './errors.ts'
import { Claimer } from './worker/claimer.ts'
import { errorOf, type WorkerEvents, type WorkerSink } from './worker/events.ts'
import { Execution, type LeaseExtender } from './worker/execution.ts'
import type { Handler } from './worker/handler.ts'
import { LeaseKeeper } from './worker/lease-keeper.ts'
import { type PendingReport, Reporter } from './worker/reporter.ts'

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
   * Leases held ahead of a free slot, at most. Default 200 (two full claims); 0 for none. A slot
   * that frees starts a held execution at once instead of waiting for a claim's round trip, and a
   * claim carries up to 100 outcomes and leases at a time. The worker holds only as many as its
   * handlers are expected to start within one round trip, from their recent durations (a long one
   * counts at once): handlers much longer than a round trip get none, so a busy worker does not sit
   * on executions an idle one could run. Held leases are heartbeated like running ones and given
   * back at once on `stop()`.
   */
  prefetch?: number
  /**
   * Claim requests in flight at most. Default 2: a second claim goes out while one is on the wire
   * for room (free slots and prefetch) one claim of 100 cannot fill, to carry outcomes that
   * finished meanwhile, or — while the queue has a backlog (the last claim came back full) — for a
   * full batch of prefetch room, so a batch arrives while the worker runs the one it has. Never
   * two long-polls.
   */
  parallelClaims?: number
  /** Per-request timeout in ms (long-polls add their wait). Default 30 000. */
  requestTimeoutMs?: number
  /** A `fetch` implementation; default a keep-alive `node:http` transport (cheaper than the global `fetch`). */
  fetch?: typeof globalThis.fetch
}

/**
 * Runs handlers for claimed executions: long-poll claims in batches up to the free slots (and,
 * for handlers quicker than a round trip, a prefetch held for the next slots), one batched
 * heartbeat request for all leases at a third of the lease, outcomes coalesced into batch
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
  private readonly announceIntervalMs: number
  private readonly stopTimeoutMs: number

  private readonly claimer: Claimer<PendingReport, Execution>
  private readonly leases: LeaseKeeper
  private readonly reporter: Reporter
  /** Executions claimed and not done yet. */
  private readonly executions = new Set<Execution>()
  private started = false
  private stopping = false
  private stopPromise: Promise<void> | null = null
  private readonly stopController = new AbortController()
  private announceTimer: NodeJS.Timeout | undefined
  /** Where executions send their events: made once, not per execution. */
  private readonly sink: WorkerSink
  /** What `ctx.heartbeat()` and `ctx.extend()` call: made once, not per execution. */
  private readonly extendLease: LeaseExtender = (execution, seconds) => this.leases.extend(execution, seconds)

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
    const prefetch = options.prefetch ?? 2 * LIMITS.maxClaimBatch
    if (!Number.isInteger(prefetch) || prefetch < 0)
      throw new RangeError('prefetch must be an integer, 0 or more')
    const parallelClaims = options.parallelClaims ?? 2
    if (!Number.isInteger(parallelClaims) || parallelClaims < 1) {
      throw new RangeError('parallelClaims must be a positive integer')
    }
    if (!WorkerId.safeParse(this.workerId).success) {
      throw new RangeError(`invalid workerId ${JSON.stringify(this.workerId)}: 1-200 printable characters`)
    }
    if (options.leaseSeconds !== undefined && !LeaseSeconds.safeParse(options.leaseSeconds).success) {
      throw new RangeError(`leaseSeconds must be an integer from 1 to ${LIMITS.maxLeaseSeconds}`)
    }
    this.announceIntervalMs = options.announceIntervalMs ?? 60_000
    this.stopTimeoutMs = options.stopTimeoutMs ?? 30_000
    // The worker schedules its own retries (and reports them as events), so the client does not.
    this.client = new Client({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.requestTimeoutMs,
      maxRetries: 0,
      fetch: options.fetch,
    })
    const sink: WorkerSink = {
      emit: this.emitSafely.bind(this),
      emitError: this.emitError.bind(this),
      listening: (event) => this.listenerCount(event) > 0,
    }
    this.sink = sink
    this.leases = new LeaseKeeper(
      this.client.executions,
      { workerId: this.workerId, heartbeatIntervalMs: options.heartbeatIntervalMs },
      sink,
    )
    this.reporter = new Reporter(this.client.executions, {
      ...sink,
      claimComing: () => this.claimer.claimComing,
      finished: (execution) => this.finish(execution),
    })
    this.claimer = new Claimer(
      this.client.executions,
      this.reporter,
      {
        workerId: this.workerId,
        tasks: this.tasks,
        concurrency: this.concurrency,
        prefetch,
        parallelClaims,
        waitSeconds: Math.max(0, Math.min(options.waitSeconds ?? 20, LIMITS.maxWaitSeconds)),
        leaseSeconds: options.leaseSeconds,
        idleDelayMs: options.idleDelayMs ?? 1000,
        backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
      },
      {
        ...sink,
        grant: (claimed, sentAt) => this.grant(claimed, sentAt),
        launch: (execution) => this.launch(execution),
      },
    )
  }

  /** Executions whose handler is running now. */
  get inFlight(): number {
    return this.claimer.running
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
      this.emitError(error)
    }
    if (this.announceIntervalMs > 0) {
      this.announceTimer = setInterval(() => {
        this.announce().catch((error: unknown) => this.emitError(error))
      }, this.announceIntervalMs)
      this.announceTimer.unref()
    }
    this.claimer.start()
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
      if (event !== 'error') this.emitError(error)
    }
  }

  /** Emits `error` (when someone listens): failed requests, lost outcomes, throwing listeners. */
  private emitError(error: unknown): void {
    this.emitSafely('error', errorOf(error))
  }

  private async announce(): Promise<void> {
    await this.client.workers.heartbeat(
      { worker_id: this.workerId, handlers: this.tasks },
      { timeoutMs: 10_000, signal: this.stopController.signal },
    )
  }

  // ------------------------------------------------------------------ one execution

  /** A claim granted a lease: heartbeats start now, the handler when a slot is free. */
  private grant(claimed: ClaimedExecution, sentAt: number): Execution | null {
    const execution = new Execution(claimed, sentAt)
    this.executions.add(execution)
    if (this.stopping) {
      // The claim answered just as stop() began: hand the execution straight back.
      void this.giveBack(execution)
      return null
    }
    this.emitSafely('claimed', execution.info)
    this.leases.track(execution, sentAt)
    return execution
  }

  /** A held execution has a slot: run it (or, if its lease went while it waited, hand it on). */
  private launch(execution: Execution): void {
    execution.start()
    void this.execute(execution)
  }

  /** Gives back a lease whose handler never ran, or was aborted at the stop deadline. */
  private async giveBack(execution: Execution): Promise<void> {
    execution.release(true)
    this.leases.forget(execution)
    await this.leases.release(execution, 'stopping')
    this.finish(execution)
  }

  /** Runs one execution to its end and frees its slot; never rejects. */
  private async execute(execution: Execution): Promise<void> {
    const started = performance.now()
    try {
      await this.runAndHandOver(execution)
    } catch (error) {
      this.emitError(error)
      this.finish(execution)
    } finally {
      this.claimer.free(performance.now() - started)
    }
  }

  private async runAndHandOver(execution: Execution): Promise<void> {
    const handler = this.handlers[execution.claimed.task]
    const after = await execution.run(handler, this.workerId, this.extendLease, this.sink)
    if (after.next === 'finish') return this.finish(execution)
    if (after.next === 'release') {
      execution.release()
      this.leases.forget(execution)
      await this.leases.release(execution, after.reason, after.delaySeconds)
      return this.finish(execution)
    }
    execution.report()
    this.reporter.add(execution, after.outcome)
  }

  private finish(execution: Execution): void {
    execution.finish()
    this.executions.delete(execution)
    this.leases.forget(execution)
  }

  // ------------------------------------------------------------------ stopping

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    this.stopping = true
    this.stopController.abort()
    clearInterval(this.announceTimer)
    await this.claimer.stop()
    // Held leases go back at once: another worker can start them while ours finish.
    const held = Promise.all(this.claimer.drop().map((e) => this.giveBack(e)))
    if (this.claimer.running > 0) {
      const timer = new AbortController()
      await Promise.race([this.claimer.idle(), sleep(deadline - Date.now(), timer.signal)])
      timer.abort()
    }
    const unfinished = [...this.executions].filter((e) => e.handlerRunning)
    await Promise.all([held, ...unfinished.map((e) => this.giveBack(e))])
    if (this.reporter.pending) {
      const timer = new AbortController()
      await Promise.race([
        this.reporter.drained(),
        sleep(Math.max(deadline - Date.now(), 5000), timer.signal),
      ])
      timer.abort()
    }
    this.reporter.abandon()
    this.leases.stop()
    this.executions.clear()
    this.emitSafely('stopped')
  }
}
