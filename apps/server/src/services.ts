import type { Engine, Tenants } from '@cuekit/engine'
import type { Logger } from 'pino'
import type { AuthCache } from './auth.ts'
import type { ServerConfig } from './config.ts'
import type { KnownRoute, RouteGuards } from './http.ts'
import type { Metrics } from './metrics.ts'
import type { PubSub } from './pubsub.ts'
import type { QueueSnapshot } from './snapshot.ts'
import type { Resolver } from './ssrf.ts'
import type { Waiters } from './waiters.ts'

/** Everything a route may use; built once per app by createApp. */
export interface Services {
  engine: Engine
  tenants: Tenants
  config: ServerConfig
  log: Logger
  auth: AuthCache
  waiters: Waiters
  pubsub: PubSub
  metrics: Metrics
  /** The queue gauges' snapshot, refreshed in the background while /metrics is scraped. */
  snapshot: QueueSnapshot
  guards: RouteGuards
  known: KnownRoute[]
  /** Aborted when the server starts shutting down: long-polls and event streams end. */
  shutdown: AbortSignal
  /** The last maintenance pass of this server that had due partitions (for GET /v1/stats). */
  lastReap: { at: number; lagMs: number } | null
  /** Name resolution for the SSRF guard (tests substitute one; default: the system's). */
  resolve?: Resolver | undefined
}
