// A chaos worker process: an SDK Worker whose handler records (execution_id, fencing token,
// attempt) in its own file before doing a little work; the harness kills it at random.
import { appendFileSync } from 'node:fs'
import { Worker } from '@cuekit/sdk'

const file = process.env.RECORDS!
const worker = new Worker({
  baseUrl: process.env.CUEKIT_URL,
  apiKey: process.env.CUEKIT_API_KEY,
  workerId: `chaos-${process.pid}`,
  concurrency: Number(process.env.CONCURRENCY ?? 8),
  leaseSeconds: Number(process.env.LEASE_SECONDS ?? 3),
  waitSeconds: 5,
  handlers: {
    chaos: async (ctx) => {
      // Written before the work: a run the harness sees may or may not have reported.
      appendFileSync(file, `${ctx.executionId} ${ctx.fencingToken} ${ctx.attempt}\n`)
      await new Promise((r) => setTimeout(r, Math.random() * 20))
    },
  },
})
worker.on('error', () => {})
process.once('SIGTERM', () => void worker.stop({ timeoutMs: 5000 }).then(() => process.exit(0)))
await worker.start()
