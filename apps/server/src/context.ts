import type { TenantRecord } from '@cuekit/engine'
import type { HttpBindings } from '@hono/node-server'

/** A request's logger: every line carries the request id. */
export interface RequestLog {
  error(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/**
 * A request its route answers on Node's response itself, after the front door has returned (a
 * parked long-poll): `park` says so, `headers` are what every answer carries, `done` records the
 * answer as the front door would have.
 */
export interface AnsweredLater {
  park(): void
  headers(): Record<string, string>
  done(status: number): void
}

/** Hono's environment for every route: who is calling. */
export type AppEnv = {
  Bindings: Partial<HttpBindings>
  Variables: {
    requestId: string
    log: RequestLog
    request: AnsweredLater
    /** The rate-limit headers of this request, for an answer written outside Hono. */
    rateLimit?: Record<string, string>
    tenant: TenantRecord
  }
}
