import type { ExecutionEvent } from '@cuekit/protocol'
import type { Api } from './api.ts'
import type { Refresher } from './refresher.ts'

/** The server's clock as last seen, so countdowns agree with the lease's own (Redis) clock. */
export class ServerClock {
  private offsetMs = 0

  sync(serverTimeIso: string): void {
    const t = Date.parse(serverTimeIso)
    if (!Number.isNaN(t)) this.offsetMs = t - Date.now()
  }

  now(): number {
    return Date.now() + this.offsetMs
  }

  /** A server instant expressed on the local clock (for timers). */
  toLocal(serverMs: number): number {
    return serverMs - this.offsetMs
  }
}

export interface PageContext {
  api: Api
  clock: ServerClock
  /** The query part of the route (`#/leases?worker=w1` → worker=w1). */
  params: URLSearchParams
  /** Route segments after the page name (`#/executions/abc` → ['abc']). */
  rest: string[]
  isLive(): boolean
  /**
   * Polite screen-reader announcement, also shown in the status line unless `visible` is false
   * (for summaries the page already shows).
   */
  announce(message: string, visible?: boolean): void
  navigate(hash: string): void
  /** Set by the shell once the page exists: ask for refreshes. */
  refresher: Refresher
}

export interface Page {
  title: string
  view: HTMLElement
  /** Fetches and renders; throws to make the refresher back off. */
  refresh(): Promise<void>
  /** A state change of some execution arrived; true asks for a refresh soon. */
  onEvent?(event: ExecutionEvent): boolean
  /** Between refreshes while the event stream is live (default 15 s). */
  liveIntervalMs?: number
  dispose?(): void
}

export type PageFactory = (ctx: PageContext) => Page
