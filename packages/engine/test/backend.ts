import { Engine, type EngineOptions, type TenantRef } from '@cuekit/engine'
import { Cluster, Redis } from 'ioredis'
import RedisMock from 'ioredis-mock'
import { afterAll, inject } from 'vitest'

/** Which store this project runs the conformance suite against (set per project in vitest.workspace.ts). */
export const backend = (process.env.CUEKIT_TEST_BACKEND ?? 'redis') as 'redis' | 'memory' | 'cluster'

const clients: (Redis | Cluster)[] = []

export function newClient(): Redis | Cluster {
  let client: Redis | Cluster
  if (backend === 'memory') client = new (RedisMock as unknown as typeof Redis)() as Redis
  else if (backend === 'cluster') {
    client = new Cluster(inject('clusterPorts').map((port) => ({ host: '127.0.0.1', port })))
  } else client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 2 })
  clients.push(client)
  return client
}

/** A second connection to the same store (cluster or not). */
export function newConnection(): Redis | Cluster {
  return newClient()
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
