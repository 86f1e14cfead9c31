import { Engine, Tenants } from '@cuekit/engine'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createApp } from '@cuekit/server'
import { Redis } from 'ioredis'

const redis = await startRedisServer()
const client = new Redis(redis.port, { enableAutoPipelining: true })
const engine = new Engine({ redis: client })
const cuekit = createApp({ engine })
const { tenant, apiKey } = await cuekit.services.tenants.create({ name: 't' })
async function time(label: string, fn: () => Promise<unknown>, n = 300) {
  for (let i = 0; i < 20; i++) await fn()
  const t = performance.now()
  for (let i = 0; i < n; i++) await fn()
  console.log(label.padEnd(28), ((performance.now() - t) / n).toFixed(3), 'ms')
}
await time('redis ping', () => client.ping())
await time('engine.claim empty', () => engine.claim(tenant, { worker_id: 'w', task: 'none' }))
await time('engine.queues', () => engine.queues(tenant))
const h = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }
await time('app.request /health', () => Promise.resolve(cuekit.app.request('/health')))
await time('app.request queues', () => Promise.resolve(cuekit.app.request('/v1/queues', { headers: h })))
await time('app.request claim empty', () =>
  Promise.resolve(
    cuekit.app.request('/v1/executions/claim', {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ worker_id: 'w', task: 'none' }),
    }),
  ),
)
await cuekit.close()
client.disconnect()
await redis.stop()
