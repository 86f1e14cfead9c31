// One BullMQ Worker process (concurrency from env, empty processor), timed from creation to the
// Nth completed job. Prints {"ms": ..., "n": ...} and exits.
import { Worker } from 'bullmq'

const port = Number(process.env.REDIS_PORT)
const n = Number(process.env.N)
const concurrency = Number(process.env.CONCURRENCY ?? 16)
const queue = process.env.QUEUE ?? 'bench'

let done = 0
const started = performance.now()
const worker = new Worker(queue, async () => {}, { connection: { host: '127.0.0.1', port }, concurrency })
worker.on('completed', () => {
  done += 1
  if (done === n) {
    const ms = performance.now() - started
    console.log(JSON.stringify({ ms, n }))
    void worker.close().then(() => process.exit(0))
  }
})
worker.on('error', (err) => console.error(err))
