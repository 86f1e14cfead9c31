import { Engine, type EngineOptions, type TenantRecord } from '@cuekit/engine'
import { createApp, type Resolver, type ServerConfig } from '@cuekit/server'
import { Redis } from 'ioredis'
import RedisMock from 'ioredis-mock'
import { afterAll, inject } from 'vitest'

export const ADMIN_KEY = 'cue_admin_test_0123456789abcdef'
const closers: (() => Promise<void>)[] = []
let n = 0

export interface TestApp {
  cuekit: ReturnType<typeof createApp>
  engine: Engine
  tenant: TenantRecord
  apiKey: string
  /** A request through app.request(); `body` is JSON-encoded unless it is a string. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  /** The same, returning status and parsed JSON. */
  json<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; headers: Headers }>
  newTenant(): Promise<{ apiKey: string; tenant: TenantRecord }>
}

/** The stores route tests run on: the project's private Redis, and the in-memory dev store. */
export const BACKENDS = ['redis', 'memory'] as const
export type Backend = (typeof BACKENDS)[number]

/**
 * An app on the project's private Redis (or, with `backend: 'memory'`, on the in-memory store
 * `npm start` uses without REDIS_URL), under its own key prefix, with one tenant.
 */
export async function makeApp(
  config: Partial<ServerConfig> = {},
  options: { resolve?: Resolver; backend?: Backend; engine?: Partial<EngineOptions> } = {},
): Promise<TestApp> {
  n += 1
  const { backend = 'redis', engine: engineOptions = {}, ...appOptions } = options
  const redis =
    backend === 'memory'
      ? (new (RedisMock as unknown as typeof Redis)() as Redis)
      : new Redis(inject('redisUrl'), { enableAutoPipelining: true })
  const engine = new Engine({
    redis,
    prefix: `s${process.pid}x${n}x${Math.random().toString(36).slice(2, 7)}`,
    ...engineOptions,
  })
  const cuekit = createApp({ engine, config: { adminKey: ADMIN_KEY, ...config }, ...appOptions })
  await cuekit.services.pubsub.ready
  const { tenant, apiKey } = await cuekit.services.tenants.create({ name: 'test' })
  closers.push(async () => {
    await cuekit.close()
    redis.disconnect()
  })
  const call: TestApp['call'] = (method, path, body, headers = {}) =>
    Promise.resolve(
      cuekit.app.request(path, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    )
  return {
    cuekit,
    engine,
    tenant,
    apiKey,
    call,
    async json(method, path, body, headers) {
      const res = await call(method, path, body, headers)
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers }
    },
    newTenant: async () => cuekit.services.tenants.create({ name: 'other' }),
  }
}

afterAll(async () => {
  for (const close of closers.splice(0)) await close()
})
