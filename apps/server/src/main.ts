import { randomBytes } from 'node:crypto'
import type { Server as HttpServer } from 'node:http'
import { Engine, StorageFormatError, Tenants } from '@cuekit/engine'
import { createAdaptorServer } from '@hono/node-server'
import { Cluster, Redis } from 'ioredis'
import pino from 'pino'
import { createApp } from './app.ts'
import { Env } from './config.ts'
import { awaitStorage, EXIT, listen, redactUrl, type SeedNode, StartupError } from './startup.ts'

// The only place that reads the environment.
const parsed = Env.safeParse(process.env)
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`invalid ${issue.path.join('.')}: ${issue.message}`)
  process.exit(EXIT.config)
}
const env = parsed.data
const log = pino({
  level: env.LOG_LEVEL,
  redact: { paths: ['*.authorization', '*.lease_token', '*.api_key', '*.token'], censor: '[redacted]' },
})
const durable = env.REDIS_URL !== undefined || env.REDIS_CLUSTER_NODES !== undefined

/** What failed startup: one line naming the setting to fix, then the exit code (no stack trace). */
async function orExit<T>(step: Promise<T>): Promise<T> {
  try {
    return await step
  } catch (error) {
    if (!(error instanceof StartupError)) throw error
    console.error(error.message)
    process.exit(error.exitCode)
  }
}

/** The store, answering: startup ends here when it does not. */
async function connect(): Promise<Redis | Cluster> {
  const common = { enableAutoPipelining: true, maxRetriesPerRequest: 3 }
  if (env.REDIS_CLUSTER_NODES) {
    const nodes: SeedNode[] = env.REDIS_CLUSTER_NODES.split(',').map((hp) => {
      const [host, port] = hp.trim().split(':')
      return { host: host || '127.0.0.1', port: Number(port ?? 6379) }
    })
    const cluster = new Cluster(nodes, {
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: 3 },
    })
    await orExit(awaitStorage(cluster, `REDIS_CLUSTER_NODES=${env.REDIS_CLUSTER_NODES}`, nodes))
    return cluster
  }
  if (env.REDIS_URL) {
    const redis = new Redis(env.REDIS_URL, common)
    await orExit(awaitStorage(redis, `REDIS_URL=${redactUrl(env.REDIS_URL)}`))
    return redis
  }
  // Loaded only for the in-memory dev store: it brings a Lua VM that a real deployment never needs.
  const { default: RedisMock } = await import('ioredis-mock')
  return new (RedisMock as unknown as typeof Redis)() as Redis
}

const redis = await connect()
// From here on a lost connection is a fault of the moment: requests answer 503 storage_unavailable
// and ioredis reconnects.
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'))
const engine = new Engine({
  redis,
  prefix: env.CUEKIT_KEY_PREFIX,
  defaultLeaseSeconds: env.CUEKIT_DEFAULT_LEASE_SECONDS,
  retentionSeconds: env.CUEKIT_RETENTION_SECONDS,
  webhookLeaseMarginSeconds: env.CUEKIT_WEBHOOK_LEASE_MARGIN_SECONDS,
  // Only a server that can mail queues on_failure mail.
  emailEnabled: env.CUEKIT_SMTP_URL !== undefined,
})
await orExit(
  engine.checkStorage().catch((error: unknown) => {
    if (!(error instanceof StorageFormatError)) throw error
    throw new StartupError(`CUEKIT_KEY_PREFIX=${env.CUEKIT_KEY_PREFIX}: ${error.message}`, EXIT.storageFormat)
  }),
)
const tenants = new Tenants(redis, engine.keys)
const adminKey = env.CUEKIT_ADMIN_KEY ?? (durable ? null : `cue_admin_${randomBytes(16).toString('hex')}`)
const cuekit = createApp({
  engine,
  tenants,
  log,
  config: {
    adminKey,
    maxWaitSeconds: env.CUEKIT_MAX_WAIT_SECONDS,
    requireLeaseToken: env.CUEKIT_REQUIRE_LEASE_TOKEN,
    openRegistration: env.CUEKIT_OPEN_REGISTRATION ?? !durable,
    rateLimit: env.CUEKIT_RATE_LIMIT,
    partitions: env.CUEKIT_PARTITIONS,
    waiterRecheckMs: env.CUEKIT_WAITER_RECHECK_MS,
    webhookAllowPrivate: env.CUEKIT_WEBHOOK_ALLOW_PRIVATE,
    webhookLeaseMarginSeconds: env.CUEKIT_WEBHOOK_LEASE_MARGIN_SECONDS,
    smtp: env.CUEKIT_SMTP_URL ? { url: env.CUEKIT_SMTP_URL, from: env.CUEKIT_SMTP_FROM } : null,
    metricsToken: env.CUEKIT_METRICS_TOKEN ?? null,
  },
})
// Long-polls are woken through this subscription: a server without it would answer them late.
await cuekit.services.pubsub.ready

// Slow or never-ending requests are cut off by Node's own timers, checked often enough to matter;
// long-polls (<= 30 s) sit inside the request timeout because their request is complete.
const serverOptions = {
  headersTimeout: env.CUEKIT_HEADERS_TIMEOUT_MS,
  requestTimeout: Math.max(env.CUEKIT_REQUEST_TIMEOUT_MS, env.CUEKIT_HEADERS_TIMEOUT_MS),
  keepAliveTimeout: 65_000,
  connectionsCheckingInterval: Math.min(1000, env.CUEKIT_HEADERS_TIMEOUT_MS),
}
const http = createAdaptorServer({ fetch: cuekit.app.fetch, serverOptions }) as HttpServer
// Requests being answered: shutdown waits for them, then closes every connection, including ones
// that never sent a request (closeIdleConnections leaves those open).
let inFlight = 0
http.on('request', (_req, res) => {
  inFlight++
  res.once('close', () => {
    inFlight--
  })
})

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  log.info({ signal }, 'shutting down: answering long-polls, finishing in-flight requests')
  const force = setTimeout(() => {
    log.error('in-flight requests did not finish within 30 s; exiting')
    process.exit(EXIT.failure)
  }, 30_000)
  force.unref()
  cuekit.stopWaiting()
  await new Promise<void>((resolve) => {
    http.close(() => resolve())
    // Connections that finish their last request become idle later; close them as they do, and
    // every connection once nothing is in flight.
    const sweep = setInterval(() => {
      if (inFlight === 0) http.closeAllConnections()
      else http.closeIdleConnections()
    }, 50)
    sweep.unref()
    http.closeIdleConnections()
  })
  await cuekit.close()
  await redis.quit().catch(() => {})
  log.info('stopped')
  process.exit(EXIT.ok)
}
// Installed before the port is bound: whoever reads "listening" may signal before the next line runs.
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

const info = await orExit(listen(http, env.PORT, env.HOST))

/** What the operator reads once the server is ready: where it listens, the storage, dev keys. */
async function banner(port: number): Promise<string> {
  const url = `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}`
  const lines = [`Cuekit control plane listening on ${url}`]
  if (durable) {
    lines.push(`  storage: ${env.REDIS_CLUSTER_NODES ? 'Redis Cluster' : 'Redis'}`)
    if (!adminKey) lines.push('  no CUEKIT_ADMIN_KEY: POST /v1/tenants is disabled until one is set')
  } else {
    const { apiKey } = await tenants.create({ name: 'dev' })
    lines.push(
      '',
      '  !!! storage: IN-MEMORY (ioredis-mock). NOTHING IS DURABLE: a restart loses every execution. !!!',
      '  !!! Set REDIS_URL=redis://127.0.0.1:6379 for a real deployment.                              !!!',
      '',
      `  admin key:       ${adminKey}`,
      `  tenant API key:  ${apiKey}   (tenant "dev")`,
    )
  }
  if (env.CUEKIT_WEBHOOK_ALLOW_PRIVATE) {
    lines.push('  webhooks: CUEKIT_WEBHOOK_ALLOW_PRIVATE=true, cues may call private and loopback addresses')
  }
  lines.push(
    `  on_failure email: ${env.CUEKIT_SMTP_URL ? `via ${redactUrl(env.CUEKIT_SMTP_URL)}` : 'off (no CUEKIT_SMTP_URL)'}`,
  )
  lines.push(`  API docs: ${url}/docs   OpenAPI: ${url}/openapi.json   dashboard: ${url}/dashboard`)
  return lines.join('\n')
}

// Ready: storage answers and the port is ours. Only now does the server say it is listening.
const ready = await banner(info.port)
if (!stopping) {
  console.log(ready)
  cuekit.startMaintenance()
}
