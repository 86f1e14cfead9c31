import { Engine } from '@cuekit/engine'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Redis } from 'ioredis'

const server = await startRedisServer()
const redis = new Redis(server.port)
const engine = new Engine({ redis })
const t = { id: 'tn_AbCdEf123456', partitions: 1 }
const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
await engine.enqueue(t, [{ payload: { x: 1 } }])
const before = await used()
const N = 100_000
const payload = { data: 'x'.repeat(89) } // JSON is exactly 100 bytes
console.log('payload bytes', JSON.stringify(payload).length)
for (let i = 0; i < N; i += 1000)
  await engine.enqueue(
    t,
    Array.from({ length: 1000 }, () => ({ task: 'send-email', payload })),
  )
const after = await used()
console.log(
  'bytes/exec incl payload',
  ((after - before) / N).toFixed(1),
  'excl',
  ((after - before) / N - 100).toFixed(1),
)
const [id] = (await engine.list(t, { limit: 1 })).executions.map((e) => e.execution_id)
console.log(
  'hash',
  await redis.memory('USAGE', engine.keys.execution({ tenantId: t.id, partition: 0 }, id!)),
  'payload key',
  await redis.memory('USAGE', engine.keys.payload({ tenantId: t.id, partition: 0 }, id!)),
)
console.log(await redis.hgetall(engine.keys.execution({ tenantId: t.id, partition: 0 }, id!)))
console.log(
  'encoding',
  await redis.object('ENCODING', engine.keys.execution({ tenantId: t.id, partition: 0 }, id!)),
)
redis.disconnect()
await server.stop()
