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
  /** True when {@link take} would give outcomes. */
  ready(): boolean
  take(): R[]
  settle(batch: R[], results: BatchOutcomeResponse['results']): void
  retry(batch: R[], error: Error): void
  /** Sends what is queued now, on its own request. */
  pump(): void
  /** Sends what is queued on the next turn, unless a claim is about to carry it. */
  pumpSoon(): void
}

export interface ClaimerOptions {
  workerId: string
  tasks: string[]
  concurrency: number
  /** Leases held beyond the running handlers at most (see {@link Claimer.prefetchNow}). */
  prefetch: number
  /** Claim requests in flight at most: a second carries outcomes, room the first could not take, or a batch claimed ahead; never two long-polls. */
  parallelClaims: number
  waitSeconds: number
  leaseSeconds: number | undefined
  idleDelayMs: number
  backoff: BackoffOptions
}

export interface ClaimerHooks<T> extends WorkerSink {
  /**
   * A lease was granted by a claim sent at `sentAt`: the worker takes charge of it (its heartbeats
   * start) and gives back what to launch when a slot is free, or null when it needs none.
   */
  grant(claimed: ClaimedExecution, sentAt: number): T | null
  /** A granted lease has a slot, taken until {@link Claimer.free}. */
  launch(item: T): void
}

/** Weight of the newest sample in the moving averages of handler time and claim round trip. */
const SMOOTHING = 0.2

/**
 * The claim loop: long-poll claims for up to as many executions as there are free slots (and a
 * prefetch of leases held for the next slots to free), finished outcomes carried on the next
 * claim (one round trip reports and asks for more), and jittered backoff while the server is
 * unreachable. It owns the slot count and the held leases.
 */
export class Claimer<R extends { body: BatchOutcomeInput }, T> {
  private busy = 0
  /** Granted leases waiting for a slot, oldest first. */
  private held: T[] = []
  /** Leases promised to claims in flight. */
  private reserved = 0
  /** Moving averages (ms) of a handler's time in its slot and of a claim's round trip; NaN until sampled. */
  private handlerMs = Number.NaN
  private roundTripMs = Number.NaN
  /** Claim loops about to send a claim (which will carry the queued outcomes). */
  private coming = 0
  /** Claims in flight that carry outcomes: they do not wait, and the loop sends the next at once. */
  private carrying = 0
  /** Long-polls in flight (claims that carry nothing and wait): one is enough to catch new work. */
  private polling = 0
  /** The last claim came back with all it asked for: the queue likely has more. */
  private backlog = false
  private stopping = false
  private readonly stopController = new AbortController()
  private loops: Promise<void> | null = null
  private slotWaiters: (() => void)[] = []
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly api: ClaimApi,
    private readonly outcomes: OutcomeCarrier<R>,
    private readonly options: ClaimerOptions,
    private readonly hooks: ClaimerHooks<T>,
  ) {}

  /** Executions whose slot is taken. */
  get running(): number {
    return this.busy
  }

  /** Granted leases waiting for a slot. */
  get waiting(): number {
    return this.held.length
  }

  /**
   * How many leases to hold beyond the running handlers now: as many as the handlers are expected
   * to free slots for within one claim round trip (so a freed slot starts its next execution
   * without waiting for the wire, and a claim carries more per request), and at most `prefetch`.
   * Handlers much longer than a round trip get none, so a worker does not sit on executions
   * another worker could run. None until a handler has finished and a claim has come back.
   */
  prefetchNow(): number {
    const { concurrency, prefetch } = this.options
    if (prefetch === 0 || !(this.roundTripMs >= 0) || !(this.handlerMs >= 0)) return 0
    return Math.min(prefetch, Math.floor((concurrency * this.roundTripMs) / Math.max(this.handlerMs, 0.01)))
  }

  /** True when a claim about to be sent will carry queued outcomes. */
  get claimComing(): boolean {
    return (this.coming > 0 || this.carrying > 0) && !this.stopping
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

  /** Takes the held leases that never got a slot (the worker gives them back when stopping). */
  drop(): T[] {
    return this.held.splice(0)
  }

  /** A slot is free again, after its handler had it for `handlerMs`; the oldest held lease takes it. */
  free(handlerMs?: number): void {
    this.busy--
    // A longer handler counts at once, shorter ones only on average: one long handler stops
    // the prefetch until a run of short ones brings it back.
    if (handlerMs !== undefined && !(handlerMs <= this.handlerMs)) this.handlerMs = handlerMs
    else if (handlerMs !== undefined) this.handlerMs += SMOOTHING * (handlerMs - this.handlerMs)
    const next = this.stopping ? undefined : this.held.shift()
    if (next !== undefined) {
      this.busy++
      this.hooks.launch(next)
    }
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
    let failures = 0
    while (!this.stopping) {
      const taken = this.busy + this.held.length + this.reserved
      const slots = options.concurrency - taken
      const room = slots + this.prefetchNow()
      // Room for prefetch alone is claimed by a claim that carries outcomes (the handlers are about
      // to finish, and a claim sent before they do would leave them a request of their own), or,
      // while the queue has a backlog (the last answer was full), a full batch of it is claimed
      // ahead without waiting: it comes back while the worker runs the batch it has, and claims
      // overlap on the wire instead of taking turns with the handlers.
      const carry = room > 0 && this.outcomes.ready()
      const ahead = !carry && this.backlog && this.polling === 0 && room >= LIMITS.maxClaimBatch
      if (!carry && !ahead && (slots <= 0 || this.polling > 0)) {
        // Outcomes no claim can carry now go on their own.
        if (this.outcomes.ready()) this.outcomes.pump()
        this.coming++
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
        // Handlers that finish together free their slots in the same turn of the event loop:
        // let them all land, so the next claim asks for all of them at once, not one at a time.
        await new Promise<void>((resolve) => setImmediate(resolve))
        this.coming--
        continue
      }
      // Room beyond one claim's batch is left to the next loop: two claims then overlap on the wire.
      const max = Math.min(room, LIMITS.maxClaimBatch)
      this.reserved += max
      // Finished executions' outcomes ride along: one round trip reports and asks for more.
      const outcomes = this.outcomes.take()
      const sentAt = Date.now()
      const started = performance.now()
      // Outcomes must not wait out a long-poll for their answer, nor a claim made ahead.
      const waitSeconds = outcomes.length > 0 || ahead ? 0 : options.waitSeconds
      if (outcomes.length > 0) this.carrying++
      else if (waitSeconds > 0) this.polling++
      try {
        const answer = await this.api.claim(
          {
            worker_id: options.workerId,
            task: options.tasks,
            max,
            wait_seconds: waitSeconds,
            lease_seconds: options.leaseSeconds,
            ...(outcomes.length > 0 ? { outcomes: outcomes.map((item) => item.body) } : {}),
          },
          { signal: stop },
        )
        this.reserved -= max
        this.backlog = answer.executions.length >= max
        failures = 0
        if (outcomes.length > 0) {
          // Only a claim that carried outcomes never waits, so only its time is a round trip.
          const ms = performance.now() - started
          this.roundTripMs = Number.isNaN(this.roundTripMs)
            ? ms
            : this.roundTripMs + SMOOTHING * (ms - this.roundTripMs)
          this.outcomes.settle(outcomes, answer.results ?? [])
        }
        for (const execution of answer.executions) {
          const item = this.hooks.grant(execution, sentAt)
          if (item === null) continue
          if (this.busy < options.concurrency && !this.stopping) {
            this.busy++
            this.hooks.launch(item)
          } else this.held.push(item)
        }
        // A poll that came back empty early (a server without long-polls, or waitSeconds 0)
        // pauses; a claim that carried outcomes or was made ahead does not.
        const early = options.waitSeconds === 0 || Date.now() - sentAt < options.waitSeconds * 500
        if (answer.executions.length === 0 && early && outcomes.length === 0 && !ahead) {
          await sleep(options.idleDelayMs * (0.5 + Math.random() / 2), stop)
        }
      } catch (error) {
        this.reserved -= max
        this.backlog = false
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
        if (outcomes.length > 0) {
          this.carrying--
          // Outcomes that finished while this claim was out ride the next one, sent at once.
          this.outcomes.pumpSoon()
        } else if (waitSeconds > 0) this.polling--
      }
    }
  }
}
