import type { TenantRecord } from '@cuekit/engine'
import type { HttpBindings } from '@hono/node-server'

/** A request's logger: every line carries the request id. */
export interface RequestLog {
  error(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/** Hono's environment for every route: who is calling. */
export type AppEnv = {
  Bindings: Partial<HttpBindings>
  Variables: {
    requestId: string
    log: RequestLog
    tenant: TenantRecord
  }
}
