import { Engine } from '@cuekit/engine'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createApp } from '@cuekit/server'
import { Redis } from 'ioredis'

const redis = await startRedisServer()
const client = new Redis(redis.port, { enableAutoPipelining: true })
const engine = new Engine({ redis: client })
const cuekit = createApp({ engine })
const { tenant, apiKey } = await cuekit.services.tenants.create({ name: 't' })
const h = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }
const N = 40000
for (let i = 0; i < N; i += 1000)
  await engine.enqueue(
    tenant,
    Array.from({ length: 1000 }, () => ({ task: 'b', payload: { n: i } })),
  )
let pending: any[] = []
const cpu0 = process.cpuUsage()
const t0 = performance.now()
let done = 0
async function loop() {
  while (done < N) {
    const body: any = { worker_id: 'w', task: 'b', max: 8 }
    if (pending.length) {
      body.outcomes = pending.map((e) => ({
        execution_id: e.execution_id,
        lease_token: e.lease.token,
        success: true,
      }))
    }
    const taken = pending
    pending = []
    const res = await cuekit.app.request('/v1/executions/claim', {
      method: 'POST',
      headers: h,
      body: JSON.stringify(body),
    })
    const j: any = await res.json()
    done += taken.length
    pending.push(...j.executions)
    if (!j.executions.length && !taken.length) break
  }
}
await Promise.all([loop(), loop()])
const c = process.cpuUsage(cpu0)
const wall = (performance.now() - t0) / 1000
console.log(
  'in-process executions/s',
  (done / wall).toFixed(0),
  'node cpu us/exec',
  ((c.user + c.system) / done).toFixed(0),
)
await cuekit.close()
client.disconnect()
await redis.stop()
