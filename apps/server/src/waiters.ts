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

class Waiter {
  kicked = false
  private wakeUp: ((why: WakeReason) => void) | null = null

  constructor(
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
    const wake = this.wakeUp
    this.wakeUp = null
    wake?.(why)
  }

  /** Resolves on a kick (also one that came before the call), the timeout, or an abort. */
  wait(ms: number, signal: GoneSignal): Promise<WakeReason> {
    if (this.kicked) {
      this.kicked = false
      return Promise.resolve('kick')
    }
    if (signal.aborted) return Promise.resolve('abort')
    return new Promise((resolve) => {
      const done = (why: WakeReason) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.wakeUp = null
        this.kicked = false
        resolve(why)
      }
      const onAbort = () => done('abort')
      const timer = setTimeout(() => done('timeout'), ms)
      signal.addEventListener('abort', onAbort, { once: true })
      this.wakeUp = done
    })
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
  async longPoll<T>(
    tenantId: string,
    tasks: string[] | null,
    max: number,
    waitMs: number,
    signal: GoneSignal,
    attempt: () => Promise<T[]>,
  ): Promise<T[]> {
    const waiter = new Waiter(tenantId, tasks, max)
    const deadline = Date.now() + waitMs
    // Registered before the first attempt, so a notification racing with it is not lost.
    this.add(waiter)
    try {
      for (;;) {
        if (signal.aborted) return []
        const got = await attempt()
        if (got.length > 0 || this.closed) return got
        const left = deadline - Date.now()
        if (left <= 0) return []
        if ((await waiter.wait(left, signal)) !== 'kick' || this.closed) return []
      }
    } finally {
      this.remove(waiter)
    }
  }

  /** `count` executions of `tasks` (task -> how many) became claimable for `tenantId`. */
  notify(tenantId: string, tasks: Map<string, number>): void {
    const waiters = this.byTenant.get(tenantId)
    if (!waiters) return
    const remaining = new Map(tasks)
    for (const w of waiters) {
      if (w.kicked) continue
      for (const [task, n] of remaining) {
        if (n > 0 && w.wants(task)) {
          w.kick()
          remaining.set(task, n - w.max)
          break
        }
      }
      if ([...remaining.values()].every((n) => n <= 0)) return
    }
  }

  /** Shutdown: every waiter answers now (empty), and new long-polls do not wait. */
  close(): void {
    this.closed = true
    clearInterval(this.timer)
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
