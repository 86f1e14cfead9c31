import type { Engine } from '@cuekit/engine'
import { decodeChange, decodeNotice } from '@cuekit/engine'
import type { ExecutionEvent } from '@cuekit/protocol'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'

type EventListener = (event: ExecutionEvent) => void

/**
 * The server's one subscriber connection: "executions became claimable" for every tenant (to
 * wake long-polls), and execution events of the tenants someone streams from this server.
 */
export class PubSub {
  private readonly sub: Redis | Cluster
  private readonly listeners = new Map<string, Set<EventListener>>()
  private readonly refreshers = new Map<string, NodeJS.Timeout>()
  ready: Promise<void>

  constructor(
    private readonly engine: Engine,
    onNotify: (tenantId: string, tasks: Map<string, number>) => void,
    private readonly log: Logger,
  ) {
    this.sub = engine.redis.duplicate()
    this.sub.on('error', (err: Error) => log.warn({ err: err.message }, 'subscriber connection error'))
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === engine.keys.notifyChannel()) {
        const notice = decodeNotice(message)
        if (notice.tenantId) onNotify(notice.tenantId, notice.tasks)
        return
      }
      const tenantId = channel.slice(engine.keys.eventChannel('').length)
      const set = this.listeners.get(tenantId)
      if (!set) return
      const event: ExecutionEvent = { type: 'execution', ...decodeChange(message) }
      for (const l of set) l(event)
    })
    this.ready = this.sub.subscribe(engine.keys.notifyChannel()).then(() => undefined)
  }

  /** Streams one tenant's execution events to `listener` until the returned function is called. */
  async onEvents(tenant: { id: string; partitions: number }, listener: EventListener): Promise<() => void> {
    let set = this.listeners.get(tenant.id)
    if (!set) {
      set = new Set()
      this.listeners.set(tenant.id, set)
      await this.sub.subscribe(this.engine.keys.eventChannel(tenant.id))
      // Scripts publish events only while this marker lives, so idle tenants cost nothing.
      await this.engine.streamEvents(tenant, 60)
      const timer = setInterval(() => {
        this.engine
          .streamEvents(tenant, 60)
          .catch((err: Error) => this.log.warn({ err: err.message }, 'event marker'))
      }, 30_000)
      timer.unref()
      this.refreshers.set(tenant.id, timer)
    }
    set.add(listener)
    return () => {
      const current = this.listeners.get(tenant.id)
      if (!current?.delete(listener) || current.size > 0) return
      this.listeners.delete(tenant.id)
      clearInterval(this.refreshers.get(tenant.id))
      this.refreshers.delete(tenant.id)
      this.sub.unsubscribe(this.engine.keys.eventChannel(tenant.id)).catch(() => {})
    }
  }

  async close(): Promise<void> {
    for (const t of this.refreshers.values()) clearInterval(t)
    this.refreshers.clear()
    this.listeners.clear()
    this.sub.disconnect()
  }
}
