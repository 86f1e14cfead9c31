import { RATE_WINDOW_MINUTES, type RatesResponse, ROUTES } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../context.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

/**
 * The tenant's activity per minute, from counters the engine keeps in storage for 25 hours: the
 * dashboard's throughput charts read it, so a page opened during an incident shows what happened
 * before it was opened, whichever server answers.
 */
export function activityRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  route(app, s, ROUTES.statsRates, async (c, { query }) => {
    const { now, minutes } = await s.engine.rates(c.get('tenant'), RATE_WINDOW_MINUTES[query.window])
    const body: RatesResponse = { window: query.window, server_time: now, minutes }
    return c.json(body, 200)
  })
}
