import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'

const server = await startRedisServer()
const connection = { host: '127.0.0.1', port: server.port }
const r = new Redis(server.port)
const q = new Queue('bench', { connection })
const N = 20000
for (let i = 0; i < N; i += 1000)
  await q.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: 'x', data: { i: i + j } })))
await r.config('RESETSTAT')
const cpu0 =
  Number(/used_cpu_user:([\d.]+)/.exec(await r.info('cpu'))![1]) +
  Number(/used_cpu_sys:([\d.]+)/.exec(await r.info('cpu'))![1])
let done = 0
const t0 = performance.now()
await new Promise<void>((resolve) => {
  const w = new Worker('bench', async () => {}, { connection, concurrency: 16 })
  w.on('completed', () => {
    if (++done === N) resolve()
  })
})
const secs = (performance.now() - t0) / 1000
const cpu1 =
  Number(/used_cpu_user:([\d.]+)/.exec(await r.info('cpu'))![1]) +
  Number(/used_cpu_sys:([\d.]+)/.exec(await r.info('cpu'))![1])
const stats = await r.info('commandstats')
const evalUs = [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+),usec=(\d+)/g)].reduce(
  (a, m) => a + Number(m[2]),
  0,
)
console.log(
  'bullmq worker/s',
  (N / secs).toFixed(0),
  'redis cpu s',
  (cpu1 - cpu0).toFixed(2),
  'eval us per job',
  (evalUs / N).toFixed(1),
)
console.log(
  stats
    .split('\n')
    .filter((l) => /calls=\d{4,}/.test(l))
    .map((l) => l.slice(0, 90))
    .join('\n'),
)
process.exit(0)
