// The SDK worker's own CPU per execution, without the server and Redis around it: one Worker
// (concurrency 16, empty handler, default options) against a fake claim endpoint that answers at
// once with as many executions as asked for. By default the endpoint is in-process (a fetch-shaped
// function: no HTTP); with `--http` it is a small node:http server in a child process, so the
// measured process is the worker alone with its transport. The window opens after a warm-up.
//
//   node --conditions=cuekit-source --import tsx scripts/bench/worker-alone.ts [--http] [--n 300000] [--warm 50000]
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { Worker } from '@cuekit/sdk'

const { values } = parseArgs({
  options: {
    http: { type: 'boolean', default: false },
    n: { type: 'string', default: '300000' },
    warm: { type: 'string', default: '50000' },
    serve: { type: 'string' },
  },
})

let seq = 0
const now = new Date().toISOString()
const execution = () => {
  const id = `exe_${(seq++).toString(36).padStart(12, '0')}`
  return {
    execution_id: id,
    id,
    cue_id: null,
    cue_name: null,
    task: 'bench',
    payload: { n: 1, s: 'x'.repeat(80) },
    scheduled_for: now,
    attempt: 1,
    max_attempts: 3,
    lease: { token: `tok_${id}`, epoch: 1, expires_at: now, lease_seconds: 900 },
  }
}

/** The answer to one request: a claim gets `max` executions and a result per outcome it carried. */
function answer(path: string, body: string): string {
  if (!path.endsWith('/v1/executions/claim')) return '{"ok":true}'
  const claim = JSON.parse(body || '{}') as { max: number; outcomes?: { execution_id: string }[] }
  const results = (claim.outcomes ?? []).map((o) => ({
    execution_id: o.execution_id,
    status: 'success',
    attempt: 1,
    outcome_recorded: true,
  }))
  const executions = Array.from({ length: claim.max }, execution)
  return JSON.stringify({
    claimed: executions.length > 0,
    executions,
    ...(results.length ? { results } : {}),
  })
}

if (values.serve !== undefined) {
  // The child: the fake endpoint over HTTP.
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      const text = answer(req.url ?? '', body)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    })
  })
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.send?.(typeof address === 'object' && address ? address.port : 0)
  })
} else {
  const n = Number(values.n)
  const warm = Number(values.warm)
  let baseUrl = 'http://in-process'
  let fetch: typeof globalThis.fetch | undefined
  let child: ReturnType<typeof fork> | undefined
  if (values.http) {
    child = fork(process.argv[1]!, ['--serve', '1'], { execArgv: process.execArgv })
    const port = await new Promise<number>((resolve) => child!.once('message', (p) => resolve(Number(p))))
    baseUrl = `http://127.0.0.1:${port}`
  } else {
    const headers = { get: () => null }
    fetch = (async (url: string, init: { body?: string | null }) => {
      const text = answer(url, init.body ?? '')
      // A turn of the event loop stands for the round trip.
      await new Promise((resolve) => setImmediate(resolve))
      return { ok: true, status: 200, headers, body: null, text: async () => text }
    }) as unknown as typeof globalThis.fetch
  }
  let reported = 0
  let cpu0: NodeJS.CpuUsage | undefined
  let wall0 = 0
  const worker = new Worker({
    baseUrl,
    apiKey: 'cue_sk_alone',
    concurrency: 16,
    announceIntervalMs: 0,
    fetch,
    handlers: { bench: async () => {} },
  })
  worker.on('reported', () => {
    reported++
    if (reported === warm) {
      cpu0 = process.cpuUsage()
      wall0 = performance.now()
    }
    if (reported === warm + n) {
      const cpu = process.cpuUsage(cpu0)
      const wall = performance.now() - wall0
      const per = (us: number) => (us / n).toFixed(2)
      console.log(
        `${values.http ? 'http' : 'in-process'}: ${n} executions after ${warm}: CPU ${per(cpu.user + cpu.system)} µs per execution (user ${per(cpu.user)}, system ${per(cpu.system)}), wall ${per(wall * 1000)} µs`,
      )
      child?.kill()
      process.exit(0)
    }
  })
  if (warm === 0) {
    cpu0 = process.cpuUsage()
    wall0 = performance.now()
  }
  await worker.start()
}
