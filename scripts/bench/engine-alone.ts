// The engine's own cost per execution, without HTTP: batches of `--batch` claimed and then
// reported as successes in one reportMany (as a claim carrying outcomes does), against a
// redis-server of its own. Prints Redis CPU (INFO cpu) and this process's CPU per execution.
//
//   node --conditions=cuekit-source --import tsx scripts/bench/engine-alone.ts [--n 100000] [--batch 100]
import { parseArgs } from 'node:util'
import { Engine } from '@cuekit/engine'
import { Redis } from 'ioredis'
import { startRedisServer } from '../lib/redis-server.ts'
import { sampleRedis } from './budget.ts'

const { values } = parseArgs({
  options: { n: { type: 'string', default: '100000' }, batch: { type: 'string', default: '100' } },
})
const n = Number(values.n)
const batch = Number(values.batch)

const redisServer = await startRedisServer()
const redis = new Redis(redisServer.port)
const engine = new Engine({ redis, prefix: 'ea' })
const tenant = { id: 'tn_bench', partitions: 1 }

const redisCpu = async () => {
  const { userUs, sysUs } = await sampleRedis(redis)
  return userUs + sysUs
}

async function run(count: number) {
  for (let i = 0; i < count; i += 1000) {
    await engine.enqueue(
      tenant,
      Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ task: 'bench', payload: { n: i + k } })),
    )
  }
  const r0 = await redisCpu()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let done = 0
  let carry: { execution_id: string; lease_token: string; success: true }[] = []
  while (done < count) {
    const [claimed] = await Promise.all([
      engine.claim(tenant, { worker_id: 'w1', task: ['bench'], max: batch }),
      carry.length ? engine.reportMany(tenant, carry) : Promise.resolve([]),
    ])
    done += carry.length
    carry = claimed.map((e) => ({ execution_id: e.execution_id, lease_token: e.lease.token, success: true }))
    if (claimed.length === 0 && carry.length === 0) break
  }
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  const r = (await redisCpu()) - r0
  return { perS: Math.round(count / (ms / 1000)), redisUs: r / count, nodeUs: (c.user + c.system) / count }
}

await run(Math.min(n, 20000)) // warm-up
for (let k = 0; k < 3; k++) {
  const x = await run(n)
  console.log(
    `${n} executions, batch ${batch}: ${x.perS}/s; CPU µs per execution: redis ${x.redisUs.toFixed(1)}, node (engine + ioredis) ${x.nodeUs.toFixed(1)}`,
  )
}
redis.disconnect()
await redisServer.stop()
