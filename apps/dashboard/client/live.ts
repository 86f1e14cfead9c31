import type { ExecutionEvent } from '@cuekit/protocol'
import type { Api } from './api.ts'
import { Backoff } from './backoff.ts'
import { SseParser } from './sse.ts'

export type LiveState = 'connecting' | 'live' | 'polling'

export interface LiveOptions {
  /** No `ready` event this long after connecting: the stream is taken as blocked (a buffering proxy). */
  readyTimeoutMs?: number
  /** The server writes a keep-alive every 15 s; this much silence means the connection is dead. */
  idleTimeoutMs?: number
  retryBaseMs?: number
  retryMaxMs?: number
}

/**
 * The tenant's event stream (`GET /v1/events`), read with fetch because EventSource cannot send
 * the Authorization header. While it is down, pages poll instead (state `polling`) and it is
 * retried with backoff; the first `ready` event switches pages back to event-driven refreshes.
 */
export class LiveEvents {
  state: LiveState = 'connecting'
  private readonly eventListeners = new Set<(e: ExecutionEvent) => void>()
  private readonly stateListeners = new Set<(s: LiveState) => void>()
  private readonly backoff: Backoff
  private abort: AbortController | null = null
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private stopped = false
  private readonly readyTimeoutMs: number
  private readonly idleTimeoutMs: number

  constructor(
    private readonly api: Api,
    options: LiveOptions = {},
  ) {
    this.readyTimeoutMs = options.readyTimeoutMs ?? 5000
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45_000
    this.backoff = new Backoff(options.retryBaseMs ?? 1000, options.retryMaxMs ?? 30_000)
  }

  onEvent(listener: (e: ExecutionEvent) => void): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  start(): void {
    this.stopped = false
    void this.connect()
  }

  stop(): void {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.abort?.abort()
    this.abort = null
  }

  private setState(state: LiveState): void {
    if (state === this.state) return
    this.state = state
    for (const l of this.stateListeners) l(state)
  }

  private async connect(): Promise<void> {
    if (this.stopped) return
    const abort = new AbortController()
    this.abort = abort
    let watchdog: ReturnType<typeof setTimeout> | null = null
    const arm = (ms: number) => {
      if (watchdog) clearTimeout(watchdog)
      watchdog = setTimeout(() => abort.abort(), ms)
    }
    let ready = false
    try {
      arm(this.readyTimeoutMs)
      const res = await this.api.stream('/v1/events', abort.signal)
      if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      const parser = new SseParser()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        if (ready) arm(this.idleTimeoutMs)
        for (const message of parser.push(value)) {
          if (message.event === 'ready') {
            ready = true
            arm(this.idleTimeoutMs)
            this.backoff.reset()
            this.setState('live')
          } else if (message.event === 'execution') {
            const event = JSON.parse(message.data) as ExecutionEvent
            for (const l of this.eventListeners) l(event)
          }
        }
      }
    } catch {
      // Refused, blocked, cut or silent: the pages poll until a retry gets through.
    } finally {
      if (watchdog) clearTimeout(watchdog)
    }
    if (this.stopped) return
    this.setState('polling')
    this.retryTimer = setTimeout(() => void this.connect(), this.backoff.next())
  }
}
