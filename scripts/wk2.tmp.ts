import { readFileSync } from 'node:fs'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createTenant, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { Worker } from '@cuekit/sdk'
import { api, bulkEnqueue } from './bench/http.ts'

const redis = await startRedisServer()
const server = await startServerProcess({
  redisUrl: redis.url,
  env: { LOG_LEVEL: 'warn', CUEKIT_RATE_LIMIT: '0' },
})
const { api_key } = await createTenant(server.url, server.adminKey)
const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
for (const parallel of [2, 2, 2]) {
  await bulkEnqueue(api(server.url, api_key), 10000, `b${parallel}`)
  const pids = { server: server.process.pid!, redis: redis.process.pid!, worker: process.pid }
  const c0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpu(p)]))
  let done = 0
  const worker = new Worker({
    baseUrl: server.url,
    apiKey: api_key,
    workerId: 'w',
    concurrency: 16,
    waitSeconds: 1,
    parallelClaims: parallel,
    handlers: { [`b${parallel}`]: async () => {} },
  })
  const t0 = performance.now()
  await new Promise<void>((resolve) => {
    worker.on('reported', () => {
      if (++done === 10000) resolve()
    })
    void worker.start()
  })
  const wall = (performance.now() - t0) / 1000
  console.log(
    `parallel ${parallel}: ${(10000 / wall).toFixed(0)}/s;`,
    Object.entries(pids)
      .map(([k, p]) => `${k} ${(((cpu(p) - c0[k]!) / wall) * 100).toFixed(0)}%`)
      .join(', '),
  )
  await worker.stop()
}
await server.stop()
await redis.stop()
