import { Backoff } from './backoff.ts'

export interface RefresherOptions {
  /** Between refreshes while events arrive live (they trigger refreshes of their own). */
  liveMs: number
  /** Between refreshes while polling (the event stream is down). */
  pollMs: number
  /** Never two refreshes closer than this, however many events arrive. */
  minGapMs?: number
  /** Cap of the backoff after failed refreshes. */
  maxBackoffMs?: number
  isLive: () => boolean
  onError?: (error: unknown) => void
  onSuccess?: () => void
}

/**
 * The one timer of a page. Refreshes run one at a time; events, actions and lease expiries ask
 * for an earlier one with soon()/at(), bounded by minGapMs, so a burst of events costs one request
 * per second at most. Failures back off up to maxBackoffMs; a hidden tab does not poll.
 */
export class Refresher {
  private timer: ReturnType<typeof setTimeout> | null = null
  private due = Number.POSITIVE_INFINITY
  private running = false
  /** An earlier refresh asked for while one was running. */
  private requested = Number.POSITIVE_INFINITY
  private lastStart = 0
  /** Set by a failure: nothing, events included, refreshes before the backoff ends. */
  private notBefore = 0
  private stopped = false
  private readonly backoff: Backoff
  private readonly minGapMs: number
  private readonly onVisible = () => {
    if (!document.hidden) this.soon(0)
  }

  constructor(
    private readonly run: () => Promise<void>,
    private readonly options: RefresherOptions,
  ) {
    this.minGapMs = options.minGapMs ?? 1000
    this.backoff = new Backoff(options.pollMs, options.maxBackoffMs ?? 60_000)
    document.addEventListener('visibilitychange', this.onVisible)
  }

  start(): void {
    void this.tick()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    document.removeEventListener('visibilitychange', this.onVisible)
  }

  /** A refresh within `ms` (and not before the minimum gap). */
  soon(ms = 250): void {
    this.at(Date.now() + ms)
  }

  /** A refresh at `atMs` (local clock) unless one is already due earlier. */
  at(atMs: number): void {
    if (this.stopped) return
    if (this.running) {
      this.requested = Math.min(this.requested, atMs)
      return
    }
    this.schedule(Math.max(atMs, this.lastStart + this.minGapMs, this.notBefore))
  }

  private schedule(atMs: number): void {
    if (atMs >= this.due) return
    if (this.timer) clearTimeout(this.timer)
    this.due = atMs
    this.timer = setTimeout(() => void this.tick(), Math.max(0, atMs - Date.now()))
  }

  private async tick(): Promise<void> {
    this.timer = null
    this.due = Number.POSITIVE_INFINITY
    if (this.stopped) return
    // Hidden tabs wait for visibilitychange; nothing is polled in the background.
    if (document.hidden) return
    this.running = true
    this.requested = Number.POSITIVE_INFINITY
    this.lastStart = Date.now()
    let next: number
    let ok = false
    try {
      await this.run()
      ok = true
      this.backoff.reset()
      this.options.onSuccess?.()
      next = this.options.isLive() ? this.options.liveMs : this.options.pollMs
    } catch (error) {
      this.options.onError?.(error)
      next = this.backoff.next()
    } finally {
      this.running = false
    }
    if (this.stopped) return
    // After a failure the backoff stands; events must not turn it back into a storm.
    this.notBefore = ok ? 0 : Date.now() + next
    this.schedule(Date.now() + next)
    if (ok && this.requested !== Number.POSITIVE_INFINITY) this.at(this.requested)
  }
}
