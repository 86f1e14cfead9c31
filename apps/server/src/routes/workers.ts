import { ROUTES, type StatsResponse, WORKER_STATES, type WorkerState } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

/** What ops look at besides executions: workers, live leases, queue counts and the stats overview. */
export function workerRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine } = s
  // CueAPI's singular path, and the plural the other worker routes use.
  for (const def of [ROUTES.workerHeartbeat, ROUTES.workersHeartbeat]) {
    route(app, s, def, async (c, { body }) => {
      const at = await engine.workerHeartbeat(c.get('tenant'), body.worker_id, body.handlers)
      return c.json(
        { acknowledged: true as const, worker_id: body.worker_id, last_seen_at: at, server_time: at },
        200,
      )
    })
  }

  route(app, s, ROUTES.listWorkers, async (c) => c.json(await engine.workers(c.get('tenant')), 200))

  route(app, s, ROUTES.deleteWorker, async (c, { params }) => {
    if (!(await engine.deleteWorker(c.get('tenant'), params.id!))) throw new HttpError('worker_not_found')
    return c.body(null, 204)
  })

  route(app, s, ROUTES.listLeases, async (c, { query }) =>
    c.json(await engine.leases(c.get('tenant'), query), 200),
  )

  route(app, s, ROUTES.listQueues, async (c) => c.json(await engine.queues(c.get('tenant')), 200))

  route(app, s, ROUTES.stats, async (c) => {
    const tenant = c.get('tenant')
    const [{ workers }, overdue] = await Promise.all([
      engine.workers(tenant),
      engine.leases(tenant, { expiring_within_seconds: 0, limit: 1000 }),
    ])
    const now = Date.parse(overdue.server_time)
    const byState = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<WorkerState, number>
    const totals = { claimed: 0, completed: 0, failed: 0 }
    for (const w of workers) {
      byState[w.state] += 1
      totals.claimed += w.claimed
      totals.completed += w.completed
      totals.failed += w.failed
    }
    const first = overdue.leases[0]
    const reap = s.lastReap
    const body: StatsResponse = {
      server_time: overdue.server_time,
      waiting_long_polls: s.waiters.waitingFor(tenant.id),
      reaper: {
        last_pass_at: reap ? new Date(reap.at).toISOString() : null,
        last_pass_lag_ms: reap ? Math.round(reap.lagMs) : null,
        overdue_leases: overdue.leases.length,
        oldest_overdue_ms: first ? Math.max(0, now - Date.parse(first.expires_at)) : null,
      },
      workers: byState,
      totals,
    }
    return c.json(body, 200)
  })
}
