import { Engine, type EngineOptions, type TenantRef } from '@cuekit/engine'
import { Redis } from 'ioredis'
import RedisMock from 'ioredis-mock'
import { afterAll, inject } from 'vitest'

/** Which store this project runs the conformance suite against (set per project in vitest.workspace.ts). */
export const backend: 'redis' | 'memory' = process.env.CUEKIT_TEST_BACKEND === 'memory' ? 'memory' : 'redis'

const clients: Redis[] = []

export function newClient(): Redis {
  const client =
    backend === 'memory'
      ? (new (RedisMock as unknown as typeof Redis)() as Redis)
      : new Redis(inject('redisUrl'), { maxRetriesPerRequest: 2 })
  clients.push(client)
  return client
}

let counter = 0

/** An engine on a fresh key prefix, so test files and tests never see each other's data. */
export function newEngine(options: Partial<EngineOptions> = {}): Engine {
  counter += 1
  return new Engine({
    redis: newClient(),
    prefix: `t${process.pid}x${counter}x${Math.random().toString(36).slice(2, 8)}`,
    ...options,
  })
}

export const tenant: TenantRef = { id: 'tn_test', partitions: 1 }

afterAll(() => {
  for (const c of clients.splice(0)) c.disconnect()
})
