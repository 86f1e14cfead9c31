// One Cuekit SDK Worker process (concurrency from env, empty handler), timed from start() to
// the Nth outcome the server recorded, inside the parent's window (window.ts).
import { Worker } from '@cuekit/sdk'
import { openWindow } from './window.ts'

const n = Number(process.env.N)
const task = process.env.TASK ?? 'bench'
let done = 0
const worker = new Worker({
  baseUrl: process.env.CUEKIT_URL,
  apiKey: process.env.CUEKIT_API_KEY,
  workerId: `bench-${process.pid}`,
  concurrency: Number(process.env.CONCURRENCY ?? 16),
  waitSeconds: 1,
  handlers: { [task]: async () => {} },
})
const window = await openWindow()
worker.on('reported', () => {
  done += 1
  if (done === n) {
    void window
      .end(n)
      .then(() => worker.stop({ timeoutMs: 2000 }))
      .then(() => process.exit(0))
  }
})
worker.on('error', (err) => console.error(err.message))
await worker.start()
