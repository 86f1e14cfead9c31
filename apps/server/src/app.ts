import { dashboard } from '@cuekit/dashboard'
import { type Engine, Maintenance, Tenants } from '@cuekit/engine'
import { ERROR_CODES } from '@cuekit/protocol'
import { OpenAPIHono } from '@hono/zod-openapi'
import pino, { type Logger } from 'pino'
import { AuthCache, adminAuth, tenantAuth } from './auth.ts'
import { defaultServerConfig, type ServerConfig } from './config.ts'
import type { AppEnv } from './context.ts'
import { errorBody, sendError, toErrorResponse } from './errors.ts'
import { frontDoor } from './front-door.ts'
import type { KnownRoute } from './http.ts'
import { Metrics } from './metrics.ts'
import { PubSub } from './pubsub.ts'
import { RateLimiter } from './ratelimit.ts'
import { accountRoutes } from './routes/account.ts'
import { activityRoutes } from './routes/activity.ts'
import { cueRoutes } from './routes/cues.ts'
import { eventRoutes } from './routes/events.ts'
import { executionRoutes } from './routes/executions.ts'
import { opsRoutes } from './routes/ops.ts'
import { outcomeRoutes } from './routes/outcomes.ts'
import { workerRoutes } from './routes/workers.ts'
import type { Services } from './services.ts'
import { QueueSnapshot } from './snapshot.ts'
import type { Resolver } from './ssrf.ts'
import { Waiters } from './waiters.ts'
import { WebhookDispatcher } from './webhooks/dispatcher.ts'
import { createMailer } from './webhooks/mail.ts'

export interface AppOptions {
  engine: Engine
  tenants?: Tenants
  config?: Partial<ServerConfig>
  log?: Logger
  /** Name resolution for the SSRF guard; tests substitute one. */
  resolve?: Resolver
}

export interface CuekitApp {
  app: OpenAPIHono<AppEnv>
  services: Services
  /** Starts the background work: lease reaper, promoter, cue scheduler and webhook dispatcher. */
  startMaintenance(): void
  /** Shutdown, step one: answer every waiting long-poll (empty) and end event streams. */
  stopWaiting(): void
  /** Shutdown, last step: maintenance and the subscriber connection. */
  close(): Promise<void>
}

/**
 * Builds the control plane around an engine: routes, auth, long-poll waiters, pub/sub and
 * maintenance. Reads no environment; main.ts does that.
 */
export function createApp(options: AppOptions): CuekitApp {
  const engine = options.engine
  const config: ServerConfig = { ...defaultServerConfig, ...options.config }
  const log = options.log ?? pino({ level: 'silent' })
  const tenants = options.tenants ?? new Tenants(engine.redis, engine.keys)
  const waiters = new Waiters(config.waiterRecheckMs)
  const shutdown = new AbortController()
  const pubsub = new PubSub(
    engine,
    (tenantId, tasks) => {
      waiters.notify(tenantId, tasks)
      dispatcher.notify(tenantId, tasks)
    },
    log,
  )
  // One walk over every tenant at a time, in the background: /metrics only reads its result.
  const snapshot = new QueueSnapshot({
    refreshMs: config.metricsRefreshMs,
    walk: async function* () {
      for (const tenant of await tenants.list()) yield (await engine.queues(tenant)).queues
    },
    onError: (err) =>
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics snapshot failed'),
  })
  const metrics = new Metrics({ waitingLongPolls: () => waiters.size, snapshot: () => snapshot.latest() })
  const auth = new AuthCache(tenants)
  const limiter = config.rateLimit > 0 ? new RateLimiter(config.rateLimit) : null
  const known: KnownRoute[] = []
  const services: Services = {
    engine,
    tenants,
    config,
    log,
    auth,
    waiters,
    pubsub,
    metrics,
    snapshot,
    guards: { tenant: tenantAuth(auth, limiter), admin: adminAuth(config.adminKey) },
    known,
    shutdown: shutdown.signal,
    lastReap: null,
    resolve: options.resolve,
  }
  const mailer = config.smtp ? createMailer(config.smtp.url, config.smtp.from, config.noticeTimeoutMs) : null
  const dispatcher = new WebhookDispatcher({
    engine,
    tenants,
    log,
    metrics,
    allowPrivate: config.webhookAllowPrivate,
    concurrency: config.webhookConcurrency,
    recheckMs: config.webhookRecheckMs,
    noticeTimeoutMs: config.noticeTimeoutMs,
    leaseMarginSeconds: config.webhookLeaseMarginSeconds,
    mailer,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  })

  const app = new OpenAPIHono<AppEnv>()
  app.use(frontDoor(log, metrics, shutdown.signal))
  opsRoutes(app, services)
  accountRoutes(app, services)
  executionRoutes(app, services)
  outcomeRoutes(app, services)
  cueRoutes(app, services)
  workerRoutes(app, services)
  activityRoutes(app, services)
  eventRoutes(app, services)
  app.route('/', dashboard())

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname
    const allowed = [...new Set(known.filter((r) => r.pattern.test(path)).map((r) => r.method))]
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '))
      return c.json(errorBody('method_not_allowed'), 405)
    }
    return c.json(errorBody('not_found', `No route for ${c.req.method} ${path}.`), 404)
  })
  app.onError((err, c) => {
    const { code } = toErrorResponse(err)
    if (ERROR_CODES[code].status >= 500) {
      ;(c.get('log') ?? log).error({ err }, 'request failed')
    }
    return sendError(c, err)
  })

  const maintenance = new Maintenance(engine, {
    listTenants: () => tenants.list(),
    onPass: (pass) => {
      metrics.reaperLag.set(pass.lagMs / 1000)
      services.lastReap = { at: engine.redisNow(), lagMs: pass.lagMs }
      if (pass.fired) metrics.cueFires.inc(pass.fired)
      if (pass.requeued) metrics.leaseExpirations.inc({ result: 'requeued' }, pass.requeued)
      if (pass.failed) metrics.leaseExpirations.inc({ result: 'failed' }, pass.failed)
      if (pass.requeued || pass.failed) {
        log.info(
          { requeued: pass.requeued, failed: pass.failed, lag_ms: pass.lagMs },
          'reaped expired leases',
        )
      }
    },
    onError: (err) =>
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'maintenance pass failed'),
  })

  return {
    app,
    services,
    startMaintenance: () => {
      maintenance.start()
      dispatcher.start()
    },
    stopWaiting: () => {
      waiters.close()
      shutdown.abort()
    },
    close: async () => {
      waiters.close()
      shutdown.abort()
      await Promise.all([maintenance.stop(), dispatcher.stop(), snapshot.close()])
      mailer?.close()
      await pubsub.close()
    },
  }
}
