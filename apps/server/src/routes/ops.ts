import { ROUTES } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { bearer, sameSecret } from '../auth.ts'
import type { AppEnv } from '../context.ts'
import { apiDocs, OPENAPI_PATH } from '../docs.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

/**
 * What operators and tools read: liveness, readiness, Prometheus metrics, and the API's own
 * description (the OpenAPI document, generated from the route table, and the page that shows it).
 */
export function opsRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine } = s
  const metricsToken = s.config.metricsToken
  route(app, s, ROUTES.health, (c) => c.json({ status: 'ok' }, 200))
  route(app, s, ROUTES.ready, async (c) => {
    try {
      await Promise.race([
        engine.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('ETIMEDOUT')), 2000).unref()),
      ])
    } catch {
      throw new HttpError('storage_unavailable')
    }
    if (s.waiters.isClosed) throw new HttpError('shutting_down')
    return c.json({ status: 'ready' }, 200)
  })
  route(app, s, ROUTES.metrics, async (c) => {
    if (metricsToken && !sameSecret(bearer(c.req.header('authorization')), metricsToken)) {
      throw new HttpError(
        'unauthorized',
        'GET /metrics requires the metrics token (Authorization: Bearer ...).',
      )
    }
    c.header('Content-Type', s.metrics.registry.contentType)
    return c.body(await s.metrics.registry.metrics(), 200)
  })

  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant API key: cue_sk_<32 hex>',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'AdminKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'The server admin key (CUEKIT_ADMIN_KEY)',
  })
  // Built on request, so it describes every route registered by then.
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: {
      title: 'Cuekit',
      version: '1',
      description: 'CueAPI-compatible scheduler and worker-transport queue with exact leases.',
    },
  })
  app.route('/', apiDocs())
}
