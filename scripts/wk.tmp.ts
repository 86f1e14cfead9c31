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
await bulkEnqueue(api(server.url, api_key), 10000, 'b')
const stats = new Map<string, { n: number; ms: number; items: number }>()
const realFetch = globalThis.fetch
const timedFetch: typeof fetch = async (input, init) => {
  const url = String(input)
  const path = new URL(url).pathname.replace(/[A-Za-z0-9]{20}/, ':id')
  const t = performance.now()
  const res = await fetch(input, init)
  const body = await res.clone().text()
  const s = stats.get(path) ?? { n: 0, ms: 0, items: 0 }
  s.n++
  s.ms += performance.now() - t
  const m = body.match(/"execution_id"/g)
  s.items += m ? m.length : 0
  stats.set(path, s)
  return res
}
let done = 0
const worker = new Worker({
  baseUrl: server.url,
  apiKey: api_key,
  workerId: 'w',
  concurrency: 16,
  waitSeconds: 1,
  handlers: { b: async () => {} },
  fetch: timedFetch,
})

import { readFileSync } from 'node:fs'

const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const pids = { server: server.process.pid!, redis: redis.process.pid!, worker: process.pid }
const c0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpu(p)]))
const t0 = performance.now()
await new Promise<void>((resolve) => {
  worker.on('reported', () => {
    if (++done === 10000) resolve()
  })
  void worker.start()
})
const wall = (performance.now() - t0) / 1000
console.log(
  'cpu share over',
  wall.toFixed(2),
  's:',
  Object.entries(pids)
    .map(([k, p]) => `${k} ${(((cpu(p) - c0[k]!) / wall) * 100).toFixed(0)}%`)
    .join(', '),
)
const mm = await (await fetch(`${server.url}/metrics`)).text()
console.log(
  mm
    .split('\n')
    .filter((l) => /http_request_duration_seconds_(sum|count).*(claim|outcomes)/.test(l))
    .join('\n'),
)
console.log('per s', (10000 / ((performance.now() - t0) / 1000)).toFixed(0))
for (const [p, s] of stats)
  console.log(
    p.padEnd(40),
    'n',
    s.n,
    'avg ms',
    (s.ms / s.n).toFixed(2),
    'items/req',
    (s.items / s.n).toFixed(1),
  )
await worker.stop()
await server.stop()
await redis.stop()
