// One BullMQ Worker process (concurrency from env, empty processor, default options), timed from
// creation to the Nth completed job, inside the parent's window (window.ts).
import { Worker } from 'bullmq'
import { openWindow } from './window.ts'

const port = Number(process.env.REDIS_PORT)
const n = Number(process.env.N)
const concurrency = Number(process.env.CONCURRENCY ?? 16)
const queue = process.env.QUEUE ?? 'bench'

let done = 0
const window = await openWindow()
const worker = new Worker(queue, async () => {}, { connection: { host: '127.0.0.1', port }, concurrency })
worker.on('completed', () => {
  done += 1
  if (done === n) {
    void window
      .end(n)
      .then(() => worker.close())
      .then(() => process.exit(0))
  }
})
worker.on('error', (err) => console.error(err))
