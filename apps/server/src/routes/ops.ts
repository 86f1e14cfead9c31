import { DuplicateEmailError, type TenantRecord } from '@cuekit/engine'
import {
  CreateTenantRequest,
  CreateTenantResponse,
  ErrorBody,
  ExecutionEvent,
  ListLeasesQuery,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  MeResponse,
  RegenerateKeyResponse,
  RegisterRequest,
  RegisterResponse,
  StatsResponse,
  UpdateMeRequest,
  WorkerHeartbeatRequest,
  WorkerHeartbeatResponse,
} from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { bearer, leaseTokenRequired, sameSecret } from '../auth.ts'
import type { AppEnv } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'

const err = (description: string) => ({ description, schema: ErrorBody })

export function tenantRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { tenants, config } = s

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/tenants',
      summary: 'Create a tenant and its first API key (admin key)',
      tags: ['tenants'],
      auth: 'admin',
      body: CreateTenantRequest,
      responses: {
        201: { description: 'Created', schema: CreateTenantResponse },
        403: err('Not the admin key'),
      },
    },
    async (c, { body }) => {
      const { tenant, apiKey } = await tenants.create({
        name: body.name ?? null,
        partitions: config.partitions,
        requireLeaseToken: config.requireLeaseToken,
      })
      return c.json({ tenant_id: tenant.id, api_key: apiKey, name: tenant.name }, 201)
    },
  )

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/auth/register',
      summary: 'Register with an email and get an API key (CueAPI; open registration only)',
      tags: ['auth'],
      auth: 'none',
      body: RegisterRequest,
      responses: {
        201: { description: 'Registered', schema: RegisterResponse },
        403: err('Registration is closed'),
        409: err('Email already registered'),
      },
    },
    async (c, { body }) => {
      if (!config.openRegistration) throw new HttpError('registration_closed')
      try {
        const email = body.email.toLowerCase()
        const { tenant, apiKey } = await tenants.create({
          email,
          name: email,
          partitions: config.partitions,
          requireLeaseToken: config.requireLeaseToken,
        })
        return c.json({ api_key: apiKey, email, tenant_id: tenant.id, user_id: tenant.id }, 201)
      } catch (error) {
        if (error instanceof DuplicateEmailError) throw new HttpError('duplicate_email')
        throw error
      }
    },
  )

  const me = (t: TenantRecord): MeResponse => ({
    tenant_id: t.id,
    user_id: t.id,
    email: t.email,
    name: t.name,
    created_at: new Date(t.createdAt).toISOString(),
    require_lease_token: leaseTokenRequired(t, config),
  })

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/auth/me',
      summary: 'The tenant of this API key, with its settings',
      tags: ['auth'],
      responses: { 200: { description: 'The tenant', schema: MeResponse } },
    },
    (c) => c.json(me(c.get('tenant')), 200),
  )

  route(
    app,
    s,
    {
      method: 'patch',
      path: '/v1/auth/me',
      summary: "Change this tenant's settings (fields left out keep their value)",
      tags: ['auth'],
      body: UpdateMeRequest,
      responses: { 200: { description: 'The tenant', schema: MeResponse }, 422: err('Invalid') },
    },
    async (c, { body }) => {
      const t = c.get('tenant')
      const updated = await tenants.update(t.id, { requireLeaseToken: body.require_lease_token })
      // This server sees the change at once; others when their auth cache entry expires (10 s).
      s.auth.forgetTenant(t.id)
      return c.json(me(updated ?? t), 200)
    },
  )

  route(
    app,
    s,
    {
      method: 'post',
      path: '/v1/auth/key/regenerate',
      summary: 'Issue a new API key and revoke this one (401 if this key was already replaced)',
      tags: ['auth'],
      responses: { 200: { description: 'The new key', schema: RegenerateKeyResponse } },
    },
    async (c) => {
      const t = c.get('tenant')
      const apiKey = await tenants.regenerateKey(t.id, bearer(c.req.header('authorization'))!)
      s.auth.forgetTenant(t.id)
      // A concurrent regeneration (or one on another server) already replaced this key.
      if (apiKey === null) throw new HttpError('unauthorized', 'This API key has been revoked.')
      return c.json({ api_key: apiKey, previous_key_revoked: true as const }, 200)
    },
  )
}

export function workerRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine } = s
  const heartbeat = {
    method: 'post' as const,
    summary: "A worker's own heartbeat, with the handlers it serves (CueAPI)",
    tags: ['workers'],
    body: WorkerHeartbeatRequest,
    responses: { 200: { description: 'Seen', schema: WorkerHeartbeatResponse } },
  }
  for (const path of ['/v1/worker/heartbeat', '/v1/workers/heartbeat']) {
    route(app, s, { ...heartbeat, path }, async (c, { body }) => {
      const at = await engine.workerHeartbeat(c.get('tenant'), body.worker_id, body.handlers)
      return c.json(
        { acknowledged: true as const, worker_id: body.worker_id, last_seen_at: at, server_time: at },
        200,
      )
    })
  }

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/workers',
      summary: 'Workers: state (active < 180 s, stale < 900 s, dead), handlers, leases in flight, counters',
      tags: ['workers'],
      responses: { 200: { description: 'Workers', schema: ListWorkersResponse } },
    },
    async (c) => c.json(await engine.workers(c.get('tenant')), 200),
  )

  route(
    app,
    s,
    {
      method: 'delete',
      path: '/v1/workers/{id}',
      summary: 'Forget a worker (its leases end as usual)',
      tags: ['workers'],
      responses: { 204: { description: 'Deleted' }, 404: err('Unknown worker') },
    },
    async (c, { params }) => {
      if (!(await engine.deleteWorker(c.get('tenant'), params.id!))) throw new HttpError('worker_not_found')
      return c.body(null, 204)
    },
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/leases',
      summary: 'Live leases sorted by expiry (expired-but-not-reaped ones have remaining_ms <= 0)',
      tags: ['leases'],
      query: ListLeasesQuery,
      responses: { 200: { description: 'Leases', schema: ListLeasesResponse }, 422: err('Invalid') },
    },
    async (c, { query }) => c.json(await engine.leases(c.get('tenant'), query), 200),
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/queues',
      summary: 'Per task: counts by status and the age of the oldest pending execution',
      tags: ['queues'],
      responses: { 200: { description: 'Queues', schema: ListQueuesResponse } },
    },
    async (c) => c.json(await engine.queues(c.get('tenant')), 200),
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/stats',
      summary: 'Overview for ops: waiting long-polls, reaper lag, workers by state, counter totals',
      tags: ['queues'],
      responses: { 200: { description: 'Stats', schema: StatsResponse } },
    },
    async (c) => {
      const tenant = c.get('tenant')
      const [{ workers }, overdue] = await Promise.all([
        engine.workers(tenant),
        engine.leases(tenant, { expiring_within_seconds: 0, limit: 1000 }),
      ])
      const now = Date.parse(overdue.server_time)
      const byState = { active: 0, stale: 0, dead: 0, lost: 0 }
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
    },
  )

  route(
    app,
    s,
    {
      method: 'get',
      path: '/v1/events',
      summary: 'Server-sent events: one `execution` event per state change of this tenant',
      tags: ['events'],
      responses: { 200: { description: 'text/event-stream of ExecutionEvent', schema: ExecutionEvent } },
    },
    (c) => {
      const tenant = c.get('tenant')
      return streamSSE(c, async (stream) => {
        const queue: ExecutionEvent[] = []
        let wake: (() => void) | null = null
        let pingDue = false
        const kick = () => {
          const resolve = wake
          wake = null
          resolve?.()
        }
        const stop = await s.pubsub.onEvents(tenant, (event) => {
          queue.push(event)
          kick()
        })
        // Everything below is undone in `finally`: the shutdown signal lives as long as the
        // process, and a stream is opened and closed again each time a dashboard reconnects.
        stream.onAbort(kick)
        s.shutdown.addEventListener('abort', kick)
        const ping = setInterval(() => {
          pingDue = true
          kick()
        }, 15_000)
        ping.unref()
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ tenant_id: tenant.id }) })
          while (!stream.aborted && !s.shutdown.aborted) {
            while (queue.length > 0) {
              const event = queue.shift()!
              await stream.writeSSE({
                event: 'execution',
                data: JSON.stringify(event),
                id: `${event.execution_id}:${event.at}`,
              })
            }
            if (pingDue) {
              pingDue = false
              await stream.write(': keep-alive\n\n')
              continue
            }
            if (stream.aborted || s.shutdown.aborted) break
            await new Promise<void>((resolve) => {
              wake = resolve
            })
          }
        } finally {
          wake = null
          clearInterval(ping)
          s.shutdown.removeEventListener('abort', kick)
          stop()
        }
      })
    },
  )
}

export function opsRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine } = s
  const metricsToken = s.config.metricsToken
  const Status = z.object({ status: z.string() })
  route(
    app,
    s,
    {
      method: 'get',
      path: '/health',
      summary: 'The process is up',
      tags: ['ops'],
      auth: 'none',
      responses: { 200: { description: 'Up', schema: Status } },
    },
    (c) => c.json({ status: 'ok' }, 200),
  )
  route(
    app,
    s,
    {
      method: 'get',
      path: '/ready',
      summary: 'Storage is reachable',
      tags: ['ops'],
      auth: 'none',
      responses: { 200: { description: 'Ready', schema: Status }, 503: err('Storage unreachable') },
    },
    async (c) => {
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
    },
  )
  route(
    app,
    s,
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (bearer CUEKIT_METRICS_TOKEN when the server sets one)',
      tags: ['ops'],
      auth: 'none',
      responses: {
        200: { description: 'text/plain; version=0.0.4' },
        401: err('The metrics token is missing or wrong'),
      },
    },
    async (c) => {
      if (metricsToken && !sameSecret(bearer(c.req.header('authorization')), metricsToken)) {
        throw new HttpError(
          'unauthorized',
          'GET /metrics requires the metrics token (Authorization: Bearer ...).',
        )
      }
      c.header('Content-Type', s.metrics.registry.contentType)
      return c.body(await s.metrics.registry.metrics(), 200)
    },
  )
}
