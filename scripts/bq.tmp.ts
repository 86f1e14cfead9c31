import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Queue, Worker } from 'bullmq'

const server = await startRedisServer()
const connection = { host: '127.0.0.1', port: server.port }
const q = new Queue('bench', { connection })
const N = 20000
let t0 = performance.now()
for (let i = 0; i < N; i += 1000)
  await q.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: 'x', data: { i: i + j } })))
console.log('addBulk/s', (N / ((performance.now() - t0) / 1000)).toFixed(0))
let done = 0
t0 = performance.now()
await new Promise<void>((resolve) => {
  const w = new Worker('bench', async () => {}, { connection, concurrency: 16 })
  w.on('completed', () => {
    if (++done === N) resolve()
  })
})
console.log('bullmq worker/s', (N / ((performance.now() - t0) / 1000)).toFixed(0))
process.exit(0)
