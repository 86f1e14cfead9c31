import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Engine, type EngineOptions, type TenantRecord } from '@cuekit/engine'
import { createApp, type Resolver, type ServerConfig } from '@cuekit/server'
import { createAdaptorServer } from '@hono/node-server'
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

export interface MakeAppOptions {
  resolve?: Resolver
  /** The in-memory store (ioredis-mock, as `npm start` without REDIS_URL) instead of Redis. */
  store?: 'redis' | 'memory'
  engine?: Partial<EngineOptions>
  /** Serve the app on a real socket (@hono/node-server, as main.ts does) and call it with fetch. */
  socket?: boolean
}

/** An app on the project's private Redis (or in memory), under its own key prefix, with one tenant. */
export async function makeApp(
  config: Partial<ServerConfig> = {},
  options: MakeAppOptions = {},
): Promise<TestApp> {
  n += 1
  const { store = 'redis', engine: engineOptions = {}, socket = false, ...appOptions } = options
  const redis =
    store === 'memory'
      ? (new (RedisMock as unknown as typeof Redis)() as Redis)
      : new Redis(inject('redisUrl'), { enableAutoPipelining: true })
  const engine = new Engine({
    redis,
    prefix: `s${process.pid}x${n}x${Math.random().toString(36).slice(2, 7)}`,
    ...engineOptions,
  })
  const cuekit = createApp({ engine, config: { adminKey: ADMIN_KEY, ...config }, ...appOptions })
  const base = socket ? await listen(cuekit.app.fetch) : undefined
  await cuekit.services.pubsub.ready
  const { tenant, apiKey } = await cuekit.services.tenants.create({ name: 'test' })
  closers.push(async () => {
    base?.server.closeAllConnections()
    base?.server.close()
    await cuekit.close()
    redis.disconnect()
  })
  const call: TestApp['call'] = (method, path, body, headers = {}) => {
    const init = {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }
    return base ? fetch(`${base.url}${path}`, init) : Promise.resolve(cuekit.app.request(path, init))
  }
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

async function listen(fetch: (request: Request, env: object) => Response | Promise<Response>) {
  const server = createAdaptorServer({ fetch }) as Server
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}
