import { Engine } from '@cuekit/engine'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Redis } from 'ioredis'

const server = await startRedisServer()
const redis = new Redis(server.port)
const engine = new Engine({ redis })
const t = { id: 'tn_x', partitions: 1 }
for (let i = 0; i < 10; i++)
  await engine.enqueue(
    t,
    Array.from({ length: 1000 }, () => ({ task: 'x', payload: { i } })),
  )
const us = async () => {
  const s = await redis.info('commandstats')
  return [...s.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+),usec=(\d+)/g)].reduce((a, m) => a + Number(m[2]), 0)
}
let claimUs = 0,
  doneUs = 0
for (let k = 0; k < 200; k++) {
  await redis.config('RESETSTAT')
  const c = await engine.claim(t, { worker_id: 'w', task: 'x', max: 16 })
  claimUs += await us()
  await redis.config('RESETSTAT')
  await engine.reportMany(
    t,
    c.map((e) => ({ execution_id: e.execution_id, lease_token: e.lease.token, success: true })),
  )
  doneUs += await us()
}
console.log('claim16 us', claimUs / 200, 'complete16 us', doneUs / 200)
redis.disconnect()
await server.stop()
