type WakeReason = 'kick' | 'timeout' | 'abort' | 'shutdown'

/** What a long-poll needs of an abort signal; an AbortSignal is one. */
export interface GoneSignal {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * "The client went away", for thousands of waiting claims: a flag and one listener slot, a
 * fraction of an AbortController's size (each waiting request carries one).
 */
export class ClientGone implements GoneSignal {
  aborted = false
  private listener: (() => void) | null = null

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    const listener = this.listener
    this.listener = null
    listener?.()
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = null
  }
}

/** Long-poll timeouts are this coarse: they share a timer per tick, not one each. */
const TICK_MS = 50

/**
 * The timeouts of every waiting long-poll: waiters in buckets by deadline (rounded up to a tick),
 * one timer for the earliest bucket. A Timeout and its closures per waiting request are a
 * measurable part of 10,000 waiters' memory.
 */
class Wheel {
  private readonly buckets = new Map<number, Set<Waiter>>()
  /** Bucket times, ascending: deadlines mostly arrive in order, so inserting is mostly a push. */
  private readonly times: number[] = []
  private timer: NodeJS.Timeout | undefined
  private timerAt = Number.POSITIVE_INFINITY

  /** Files `w` to be woken with 'timeout' at `at` (at most a tick later); returns its bucket. */
  add(w: Waiter, at: number): number {
    const time = Math.ceil(at / TICK_MS) * TICK_MS
    let bucket = this.buckets.get(time)
    if (!bucket) {
      bucket = new Set()
      this.buckets.set(time, bucket)
      let i = this.times.length
      while (i > 0 && this.times[i - 1]! > time) i--
      this.times.splice(i, 0, time)
      if (time < this.timerAt) this.arm(time)
    }
    bucket.add(w)
    return time
  }

  remove(w: Waiter, time: number): void {
    const bucket = this.buckets.get(time)
    if (!bucket?.delete(w) || bucket.size > 0) return
    this.buckets.delete(time)
    this.times.splice(this.times.indexOf(time), 1)
  }

  close(): void {
    clearTimeout(this.timer)
    this.timerAt = Number.POSITIVE_INFINITY
  }

  private arm(time: number): void {
    clearTimeout(this.timer)
    this.timerAt = time
    this.timer = setTimeout(() => this.fire(), Math.max(1, time - Date.now()))
  }

  private fire(): void {
    this.timerAt = Number.POSITIVE_INFINITY
    const now = Date.now()
    while (this.times.length > 0 && this.times[0]! <= now) {
      const time = this.times.shift()!
      const bucket = this.buckets.get(time)!
      this.buckets.delete(time)
      for (const w of bucket) w.timedOut()
    }
    if (this.times.length > 0) this.arm(this.times[0]!)
  }
}

class Waiter {
  kicked = false
  private wake: ((why: WakeReason) => void) | null = null
  private signal: GoneSignal | null = null
  /** The wheel bucket of the current wait. */
  private slot = 0
  private readonly onAbort = () => this.finish('abort')

  constructor(
    private readonly wheel: Wheel,
    readonly tenantId: string,
    // The claim's own list (at most 50 names): no Set per waiting request.
    readonly tasks: readonly string[] | null,
    readonly max: number,
  ) {}

  wants(task: string): boolean {
    return this.tasks === null || this.tasks.includes(task)
  }

  kick(why: WakeReason = 'kick'): void {
    this.kicked = true
    this.finish(why)
  }

  /** The wheel took this waiter out of its bucket and wakes it. */
  timedOut(): void {
    this.slot = 0
    this.finish('timeout')
  }

  /**
   * Calls `wake` once: on a kick (also one that came before the call), the deadline `until`, or
   * an abort. A callback, not a promise, so a waiting request holds no suspended async frame.
   */
  wait(until: number, signal: GoneSignal, wake: (why: WakeReason) => void): void {
    if (this.kicked) {
      this.kicked = false
      wake('kick')
      return
    }
    if (signal.aborted) {
      wake('abort')
      return
    }
    this.wake = wake
    this.signal = signal
    this.slot = this.wheel.add(this, until)
    signal.addEventListener('abort', this.onAbort, { once: true })
  }

  private finish(why: WakeReason): void {
    const wake = this.wake
    if (wake === null) return
    this.wake = null
    this.signal?.removeEventListener('abort', this.onAbort)
    this.signal = null
    if (this.slot !== 0) this.wheel.remove(this, this.slot)
    this.slot = 0
    this.kicked = false
    wake(why)
  }
}

/**
 * The long-poll registry of one server: waiting claims per tenant, oldest first. Woken by the
 * "executions became claimable" notifications every server receives over Redis pub/sub; a
 * coarse timer also kicks each tenant's oldest waiter so a lost notification strands nothing.
 * That re-check costs one claim per tenant with waiters per interval, not one per waiter.
 */
export class Waiters {
  private readonly byTenant = new Map<string, Set<Waiter>>()
  private readonly wheel = new Wheel()
  private closed = false
  private readonly timer: NodeJS.Timeout
  size = 0

  constructor(recheckMs: number) {
    this.timer = setInterval(() => this.recheck(), recheckMs)
    this.timer.unref()
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Claims of one tenant waiting on this server now. */
  waitingFor(tenantId: string): number {
    return this.byTenant.get(tenantId)?.size ?? 0
  }

  /**
   * Runs `attempt` now and again whenever woken, until it returns something, `waitMs` passes,
   * the client goes away (`signal`) or the server shuts down. Never attempts for a gone client.
   */
  longPoll<T>(
    tenantId: string,
    tasks: string[] | null,
    max: number,
    waitMs: number,
    signal: GoneSignal,
    attempt: () => Promise<T[]>,
  ): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.park(tenantId, tasks, max, waitMs, signal, attempt, (error, got) =>
        error === undefined ? resolve(got) : reject(error),
      ),
    )
  }

  /**
   * longPoll with a callback: `done` gets what was claimed (or the error of an attempt) once. A
   * route that answers on Node's response from `done` keeps nothing of its request's async
   * frames and Hono context while it waits.
   */
  park<T>(
    tenantId: string,
    tasks: string[] | null,
    max: number,
    waitMs: number,
    signal: GoneSignal,
    attempt: () => Promise<T[]>,
    done: (error: unknown, got: T[]) => void,
  ): void {
    const waiter = new Waiter(this.wheel, tenantId, tasks, max)
    const deadline = Date.now() + waitMs
    const end = (error: unknown, got: T[]) => {
      this.remove(waiter)
      done(error, got)
    }
    const woken = (why: WakeReason) => {
      if (why !== 'kick' || this.closed) end(undefined, [])
      else next()
    }
    const claimed = (got: T[]) => {
      if (got.length > 0 || this.closed) end(undefined, got)
      else if (deadline <= Date.now()) end(undefined, [])
      else waiter.wait(deadline, signal, woken)
    }
    const failed = (error: unknown) => end(error ?? new Error('claim failed'), [])
    const next = () => {
      if (signal.aborted) end(undefined, [])
      else attempt().then(claimed, failed)
    }
    // Registered before the first attempt, so a notification racing with it is not lost.
    this.add(waiter)
    next()
  }

  /** `count` executions of `tasks` (task -> how many) became claimable for `tenantId`. */
  notify(tenantId: string, tasks: Map<string, number>): void {
    const waiters = this.byTenant.get(tenantId)
    if (!waiters) return
    const remaining = new Map(tasks)
    let open = 0
    for (const n of remaining.values()) if (n > 0) open++
    for (const w of waiters) {
      if (open === 0) return
      if (w.kicked) continue
      for (const [task, n] of remaining) {
        if (n > 0 && w.wants(task)) {
          w.kick()
          remaining.set(task, n - w.max)
          if (n - w.max <= 0) open--
          break
        }
      }
    }
  }

  /** Shutdown: every waiter answers now (empty), and new long-polls do not wait. */
  close(): void {
    this.closed = true
    clearInterval(this.timer)
    this.wheel.close()
    for (const waiters of this.byTenant.values()) for (const w of waiters) w.kick('shutdown')
  }

  private recheck(): void {
    for (const waiters of this.byTenant.values()) {
      const oldest = waiters.values().next().value
      oldest?.kick()
    }
  }

  private add(w: Waiter): void {
    let set = this.byTenant.get(w.tenantId)
    if (!set) {
      set = new Set()
      this.byTenant.set(w.tenantId, set)
    }
    set.add(w)
    this.size += 1
  }

  private remove(w: Waiter): void {
    const set = this.byTenant.get(w.tenantId)
    if (!set?.delete(w)) return
    this.size -= 1
    if (set.size === 0) this.byTenant.delete(w.tenantId)
  }
}
