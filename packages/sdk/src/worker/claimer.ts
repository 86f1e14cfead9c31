import { type BatchOutcomeResponse, type ClaimedExecution, LIMITS } from '@cuekit/protocol'
import { type BackoffOptions, backoffDelay, sleep } from '../backoff.ts'
import type { ExecutionsApi } from '../client/executions.ts'
import { RateLimitError } from '../errors.ts'
import type { BatchOutcomeInput } from '../types.ts'
import { errorOf, type WorkerSink } from './events.ts'

/** The call the claimer makes. */
export type ClaimApi = Pick<ExecutionsApi, 'claim'>

/** Where finished outcomes wait; a claim carries them (the reporter implements it). */
export interface OutcomeCarrier<R extends { body: BatchOutcomeInput }> {
  take(): R[]
  settle(batch: R[], results: BatchOutcomeResponse['results']): void
  retry(batch: R[], error: Error): void
  pump(): void
}

export interface ClaimerOptions {
  workerId: string
  tasks: string[]
  concurrency: number
  /** Claim requests in flight at once, each for its share of the free slots. */
  parallelClaims: number
  waitSeconds: number
  leaseSeconds: number | undefined
  idleDelayMs: number
  backoff: BackoffOptions
}

export interface ClaimerHooks extends WorkerSink {
  /** A lease was granted by a claim sent at `sentAt`; its slot is taken until {@link Claimer.free}. */
  launch(claimed: ClaimedExecution, sentAt: number): void
}

/**
 * The claim loop: long-poll claims for up to as many executions as there are free slots, finished
 * outcomes carried on the next claim (one round trip reports and asks for more), and jittered
 * backoff while the server is unreachable. It owns the slot count.
 */
export class Claimer<R extends { body: BatchOutcomeInput }> {
  private busy = 0
  /** Slots promised to claims in flight. */
  private reserved = 0
  /** Claim loops about to send a claim (which will carry the queued outcomes). */
  private coming = 0
  private stopping = false
  private readonly stopController = new AbortController()
  private loops: Promise<void> | null = null
  private slotWaiters: (() => void)[] = []
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly api: ClaimApi,
    private readonly outcomes: OutcomeCarrier<R>,
    private readonly options: ClaimerOptions,
    private readonly hooks: ClaimerHooks,
  ) {}

  /** Executions whose slot is taken. */
  get running(): number {
    return this.busy
  }

  /** True when a claim about to be sent will carry queued outcomes. */
  get claimComing(): boolean {
    return this.coming > 0 && !this.stopping
  }

  start(): void {
    this.loops = Promise.all(Array.from({ length: this.options.parallelClaims }, () => this.loop())).then(
      () => {},
    )
  }

  /** Stops claiming: aborts the claims in flight and resolves when every loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true
    this.stopController.abort()
    this.wakeSlotWaiters()
    await this.loops
  }

  /** A slot is free again. */
  free(): void {
    this.busy--
    this.wakeSlotWaiters()
    if (this.busy === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const wake of waiters) wake()
    }
  }

  /** Resolves when no slot is taken. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private wakeSlotWaiters(): void {
    const waiters = this.slotWaiters
    this.slotWaiters = []
    for (const wake of waiters) wake()
  }

  private async loop(): Promise<void> {
    const { options } = this
    const stop = this.stopController.signal
    // With several loops each claims its share of the slots, so claims overlap on the wire.
    const share = Math.ceil(options.concurrency / options.parallelClaims)
    let failures = 0
    while (!this.stopping) {
      const free = options.concurrency - this.busy - this.reserved
      if (free <= 0) {
        this.coming++
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
        // Handlers that finish together free their slots in the same turn of the event loop:
        // let them all land, so the next claim asks for all of them at once, not one at a time.
        await new Promise<void>((resolve) => setImmediate(resolve))
        this.coming--
        continue
      }
      const max = Math.min(free, share, LIMITS.maxClaimBatch)
      this.reserved += max
      // Finished executions' outcomes ride along: one round trip reports and asks for more.
      const outcomes = this.outcomes.take()
      const sentAt = Date.now()
      try {
        const answer = await this.api.claim(
          {
            worker_id: options.workerId,
            task: options.tasks,
            max,
            // Outcomes must not wait out a long-poll for their answer.
            wait_seconds: outcomes.length > 0 ? 0 : options.waitSeconds,
            lease_seconds: options.leaseSeconds,
            ...(outcomes.length > 0 ? { outcomes: outcomes.map((item) => item.body) } : {}),
          },
          { signal: stop },
        )
        this.reserved -= max
        failures = 0
        if (outcomes.length > 0) this.outcomes.settle(outcomes, answer.results ?? [])
        for (const execution of answer.executions) {
          this.busy++
          this.hooks.launch(execution, sentAt)
        }
        const early = options.waitSeconds === 0 || Date.now() - sentAt < options.waitSeconds * 500
        if (answer.executions.length === 0 && early && outcomes.length === 0) {
          await sleep(options.idleDelayMs * (0.5 + Math.random() / 2), stop)
        }
      } catch (error) {
        this.reserved -= max
        if (outcomes.length > 0) this.outcomes.retry(outcomes, errorOf(error))
        if (this.stopping) break
        failures++
        let delayMs = backoffDelay(failures, options.backoff)
        if (error instanceof RateLimitError && error.retryAfter !== null) {
          delayMs = Math.max(delayMs, error.retryAfter * 1000)
        }
        this.hooks.emitError(error)
        this.hooks.emit('backoff', { operation: 'claim', attempt: failures, delayMs, error: errorOf(error) })
        await sleep(delayMs, stop)
      } finally {
        if (outcomes.length > 0) this.outcomes.pump()
      }
    }
  }
}
