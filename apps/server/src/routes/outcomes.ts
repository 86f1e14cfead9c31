import type { MonthUsage } from '@cuekit/engine'
import { ROUTES, type UsageResponse } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../context.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

/**
 * The outcome half of CueAPI (docs/outcomes.md): evidence and verification of a recorded outcome,
 * the alerts the engine raises, and the month's usage. The state machine is the engine's.
 */
export function outcomeRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine } = s

  route(app, s, ROUTES.evidence, async (c, { body, params }) =>
    c.json(await engine.evidence(c.get('tenant'), params.id!, body), 200),
  )

  route(app, s, ROUTES.verify, async (c, { body, params }) =>
    c.json(await engine.verify(c.get('tenant'), params.id!, body), 200),
  )

  route(app, s, ROUTES.verificationPending, async (c, { params }) =>
    c.json(await engine.verificationPending(c.get('tenant'), params.id!), 200),
  )

  route(app, s, ROUTES.liveClaim, async (c, { body, params }) =>
    c.json(await engine.liveClaim(c.get('tenant'), params.id!, body.session_token), 200),
  )

  route(app, s, ROUTES.listAlerts, async (c, { query }) =>
    c.json(await engine.alerts(c.get('tenant'), query), 200),
  )

  route(app, s, ROUTES.getAlert, async (c, { params }) =>
    c.json(await engine.alert(c.get('tenant'), params.id!), 200),
  )

  route(app, s, ROUTES.acknowledgeAlert, async (c, { params }) =>
    c.json(await engine.acknowledgeAlert(c.get('tenant'), params.id!), 200),
  )

  route(app, s, ROUTES.usage, async (c) =>
    c.json(usageBody(await engine.usage(c.get('tenant')), s.config.rateLimit), 200),
  )
}

/**
 * CueAPI's usage shape for a self-hosted server: real counts, no limits. `rateLimit` is the
 * server's per-key requests per second (0: none).
 */
export function usageBody(u: MonthUsage, rateLimit: number): UsageResponse {
  return {
    plan: 'self-hosted',
    billing_period: { start: u.start, end: u.end, days_remaining: u.daysRemaining },
    period: { start: u.start, end: u.end },
    cues: { used: u.cues, active: u.activeCues, limit: null, remaining: null, percent_used: null },
    executions: {
      used: u.executions,
      limit: null,
      remaining: null,
      percent_used: null,
      percentage: null,
      projected_month_end: Math.round((u.executions / Math.max(1, u.daysSoFar)) * u.daysInMonth),
      will_exceed_limit: false,
    },
    outcomes: { reported: u.outcomes, succeeded: u.outcomeSuccesses, failed: u.outcomeFailures },
    rate_limit: { requests_per_minute: rateLimit > 0 ? rateLimit * 60 : null, current_usage: 0 },
    upgrade_url: null,
  }
}
