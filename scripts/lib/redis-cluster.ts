import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { type RedisServer, startRedisServer } from './redis-server.ts'
import { waitFor } from './wait.ts'

export interface RedisCluster {
  nodes: RedisServer[]
  /** `host:port` seeds, as REDIS_CLUSTER_NODES takes them. */
  seeds: string
  ports: number[]
  stop(): Promise<void>
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000)
    if (taken.has(port)) continue
    if ((await isFree(port)) && (await isFree(port + 10_000))) {
      taken.add(port)
      return port
    }
  }
}

/** Starts `masters` redis-server processes and joins them into a cluster (no replicas). */
export async function startRedisCluster(masters = 3, extraArgs: string[] = []): Promise<RedisCluster> {
  const taken = new Set<number>()
  const nodes: RedisServer[] = []
  for (let i = 0; i < masters; i++) {
    const port = await clusterPort(taken)
    nodes.push(
      await startRedisServer({
        port,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--save',
          '',
          '--appendonly',
          'no',
          ...extraArgs,
        ],
      }),
    )
  }
  const ports = nodes.map((n) => n.port)
  const create = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  )
  if (create.status !== 0) {
    await Promise.all(nodes.map((n) => n.stop()))
    throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`)
  }
  await waitFor(
    async () => {
      const states = await Promise.all(
        ports.map(async (port) => {
          const c = new Redis(port, { lazyConnect: true })
          try {
            await c.connect()
            return String(await c.cluster('INFO')).includes('cluster_state:ok')
          } finally {
            c.disconnect()
          }
        }),
      )
      return states.every(Boolean)
    },
    { timeoutMs: 20_000, intervalMs: 100, message: 'the cluster did not reach cluster_state:ok' },
  )
  return {
    nodes,
    ports,
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
