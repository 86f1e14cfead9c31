import type { TenantRecord } from '@cuekit/engine'
import type { HttpBindings } from '@hono/node-server'
import type { Logger } from 'pino'

/** Hono's environment for every route: who is calling, and the parsed body. */
export type AppEnv = {
  Bindings: Partial<HttpBindings>
  Variables: {
    requestId: string
    log: Logger
    tenant: TenantRecord
    /** The JSON body, parsed once by the body middleware (undefined when empty). */
    body: unknown
  }
}
