// `npm run bench [-- --quick] [-- --json FILE] [-- --only a,b] [-- --cpu-prof]`: Cuekit measured side by side
// with BullMQ on one private redis-server. See docs/benchmarks.md for the targets.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Engine } from '@cuekit/engine'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { bundle } from '../../apps/server/bundle.mjs'
import { type RedisServer, startRedisServer } from '../lib/redis-server.ts'
import { createTenant, type ServerProcess, startServerProcess } from '../lib/server-process.ts'
import { waitFor } from '../lib/wait.ts'
import {
  addCommandstats,
  addCounts,
  type Commandstats,
  httpDelta,
  type ProcSample,
  procDelta,
  type RedisSample,
  redisDelta,
  sampleHttp,
  sampleProc,
  sampleRedis,
} from './budget.ts'
import { type Api, api, bulkEnqueue } from './http.ts'
import type { ProfileManifest } from './profile.ts'
import { median, percentile, round } from './stats.ts'
import type { WindowResult } from './window.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : null
const profile = args.includes('--cpu-prof')

const SIZE = {
  throughput: quick ? 2000 : 20_000,
  rounds: quick ? 1 : 3,
  wake: quick ? 100 : 1000,
  reclaim: quick ? 20 : 200,
  liveLeases: quick ? 10_000 : 100_000,
  expiredLeases: quick ? 100 : 1000,
  waiters: quick ? 500 : 10_000,
  wakeUnderLoad: quick ? 20 : 200,
  memory: quick ? 10_000 : 100_000,
}

const results: Record<string, number> = {}
/** Breakdowns behind the figures (per round, per command, per route): in the --json output only. */
const details: Record<string, unknown> = {}
const notes: string[] = []
const profileDir = 'artifacts/profiles'
const cacheDir = fileURLToPath(new URL('../../.cuekit/', import.meta.url))
mkdirSync(cacheDir, { recursive: true })
const bundles = mkdtempSync(join(cacheDir, 'bench-'))
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))

function log(line: string) {
  process.stderr.write(`${line}\n`)
}

/** What the parent does at the edges of a child's timed window (see window.ts). */
interface WindowHooks {
  start(): Promise<void>
  end(result: WindowResult): Promise<void>
}

/** With --cpu-prof: which profile is which process, and the timed windows (scripts/bench/profile.ts). */
const manifest: ProfileManifest = { processes: [], windows: [] }

/**
 * Runs a bench child process through its timed window and returns the child's figures. Children
 * run bundled, as the server does (apps/server/start.mjs), so neither side of the comparison pays
 * for a TypeScript loader.
 */
async function child(
  file: string,
  env: Record<string, string>,
  hooks: WindowHooks,
): Promise<WindowResult & { pid: number }> {
  const outfile = join(bundles, `${file}.mjs`)
  if (!existsSync(outfile)) await bundle(here(file), outfile)
  const prof = profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const p = spawn(process.execPath, [...prof, outfile], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  if (profile) {
    const copy = join(profileDir, file.replace(/\.ts$/, '.mjs'))
    if (!existsSync(copy)) copyFileSync(outfile, copy)
    manifest.processes.push({ pid: p.pid!, role: file.replace(/\.ts$/, ''), bundle: outfile, copy })
  }
  let out = ''
  let result: WindowResult | undefined
  let failure: unknown
  const fail = (err: unknown) => {
    failure ??= err
    p.kill()
  }
  createInterface({ input: p.stdout }).on('line', (line) => {
    out += `${line}\n`
    let message: { ready?: boolean; ms?: number }
    try {
      message = JSON.parse(line)
    } catch {
      return
    }
    if (message.ready) {
      hooks.start().then(() => p.stdin.write('go\n'), fail)
    } else if (message.ms !== undefined) {
      result = message as WindowResult
      hooks.end(result).then(() => p.stdin.write('stop\n'), fail)
    }
  })
  const [code] = (await once(p, 'close')) as [number | null]
  if (failure) throw failure
  if (!result || code !== 0) throw new Error(`${file} exited ${code} without a result: ${out}`)
  return { ...result, pid: p.pid! }
}

// ---------------------------------------------------------------- scenarios

/** Per-execution figures of one round, each side over its own timed window. */
interface Round {
  throughput_per_s: number
  cpu_us_per_execution_worker: number
  cpu_us_per_execution_server: number
  cpu_us_per_execution_redis: number
  http_requests_per_execution: number
  redis_commands_per_execution: number
  redis_script_calls_per_execution: number
  bullmq_throughput_per_s: number
  bullmq_cpu_us_per_execution_worker: number
  bullmq_cpu_us_per_execution_redis: number
  bullmq_redis_commands_per_execution: number
  bullmq_redis_script_calls_per_execution: number
  /** CPU of all the side's processes over its window: how much of the machine's cores it kept busy. */
  cores_busy: number
  bullmq_cores_busy: number
}

const scriptCalls = (stats: Commandstats) =>
  Object.entries(stats)
    .filter(([name]) => /^(evalsha|eval|fcall)(_ro)?$/.test(name))
    .reduce((sum, [, s]) => sum + s.calls, 0)

interface Edge {
  http: Record<string, number>
  redis: RedisSample
  redisProc: ProcSample
  serverProc: ProcSample | undefined
}

/**
 * Samples the server (/proc, /metrics request counts) and Redis (INFO, /proc) at the edges of a
 * child's window. Scrapes that cost the server or Redis run outside the window: /metrics first and
 * /proc last at its start, the reverse at its end.
 */
function windowSampler(client: Redis, redis: RedisServer, server?: ServerProcess) {
  const serverPid = server?.process.pid
  const redisPid = redis.process.pid!
  let start: Edge | undefined
  let end: Edge | undefined
  return {
    hooks: {
      async start() {
        const http = server ? await sampleHttp(server.url) : {}
        const r = await sampleRedis(client)
        const redisProc = sampleProc(redisPid)
        start = { http, redis: r, redisProc, serverProc: serverPid ? sampleProc(serverPid) : undefined }
      },
      async end() {
        const serverProc = serverPid ? sampleProc(serverPid) : undefined
        const redisProc = sampleProc(redisPid)
        const r = await sampleRedis(client)
        end = { http: server ? await sampleHttp(server.url) : {}, redis: r, redisProc, serverProc }
      },
    } satisfies WindowHooks,
    delta() {
      if (!start || !end) throw new Error('the window was not sampled')
      const r = redisDelta(start.redis, end.redis)
      return {
        http: httpDelta(start.http, end.http),
        redis: r,
        // CPU from INFO (µs resolution), the rest from /proc.
        redisProc: { ...procDelta(start.redisProc, end.redisProc), userUs: r.userUs, sysUs: r.sysUs },
        serverProc:
          start.serverProc && end.serverProc ? procDelta(start.serverProc, end.serverProc) : undefined,
      }
    },
  }
}

/** A process's window per execution, for the --json details. */
const procFigures = (p: ProcSample, n: number) => ({
  cpu_user_us: round(p.userUs / n, 1),
  cpu_sys_us: round(p.sysUs / n, 1),
  read_syscalls: round(p.reads / n, 3),
  write_syscalls: round(p.writes / n, 3),
  main_thread_on_cpu_us: round(p.mainRunUs / n, 1),
  main_thread_runqueue_wait_us: round(p.mainWaitUs / n, 1),
})

const formatProc = (name: string, p: ReturnType<typeof procFigures>) =>
  `${name} ${p.cpu_user_us}/${p.cpu_sys_us} µs, ${p.read_syscalls}/${p.write_syscalls} syscalls`

const window = (r: WindowResult) => ({ start_us: r.start_us, end_us: r.end_us, n: r.n })

const perExecution = (counts: Record<string, number>, n: number) =>
  Object.fromEntries(
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => [k, round(v / n, 4)]),
  )

const commandstatsPerExecution = (stats: Commandstats, n: number) =>
  Object.fromEntries(
    Object.entries(stats)
      .sort(([, a], [, b]) => b.usec - a.usec)
      .map(([k, v]) => [k, { calls: round(v.calls / n, 4), usec: round(v.usec / n, 2) }]),
  )

const formatCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')

const formatCommandstats = (stats: Record<string, { calls: number; usec: number }>) =>
  Object.entries(stats)
    .map(([k, v]) => `${k} ${v.calls} calls ${v.usec} µs`)
    .join(', ')

async function throughput(redis: RedisServer, server: ServerProcess, call: Api, apiKey: string) {
  const n = SIZE.throughput
  const rounds: Round[] = []
  const processDetails: Record<string, ReturnType<typeof procFigures>>[] = []
  const enqueueOurs: number[] = []
  const enqueueTheirs: number[] = []
  const ourCommands: Commandstats = {}
  const theirCommands: Commandstats = {}
  const httpByRoute: Record<string, number> = {}
  const sampler = new Redis(redis.port)
  const per = (x: number, digits = 1) => round(x / n, digits)
  for (let r = 0; r < SIZE.rounds; r++) {
    // Enqueues (both sides) happen before the window opens: the window holds only the workers' path.
    const task = `bench-${r}`
    let t = performance.now()
    await bulkEnqueue(call, n, task, { n: r })
    enqueueOurs.push(n / ((performance.now() - t) / 1000))
    const ours = windowSampler(sampler, redis, server)
    const cuekit = await child(
      'cuekit-worker.ts',
      { CUEKIT_URL: server.url, CUEKIT_API_KEY: apiKey, N: String(n), TASK: task, CONCURRENCY: '16' },
      ours.hooks,
    )
    const o = ours.delta()
    const queue = new Queue(`bench-${r}`, { connection: { host: '127.0.0.1', port: redis.port } })
    t = performance.now()
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'bench', data: { n: r } })),
      )
    }
    enqueueTheirs.push(n / ((performance.now() - t) / 1000))
    const theirs = windowSampler(sampler, redis)
    const bull = await child(
      'bullmq-worker.ts',
      { REDIS_PORT: String(redis.port), N: String(n), QUEUE: `bench-${r}`, CONCURRENCY: '16' },
      theirs.hooks,
    )
    const b = theirs.delta()
    await queue.obliterate({ force: true })
    await queue.close()
    addCommandstats(ourCommands, o.redis.commandstats)
    addCommandstats(theirCommands, b.redis.commandstats)
    addCounts(httpByRoute, o.http)
    const round_: Round = {
      throughput_per_s: round(n / (cuekit.ms / 1000), 0),
      cpu_us_per_execution_worker: per(cuekit.proc.userUs + cuekit.proc.sysUs),
      cpu_us_per_execution_server: per(o.serverProc!.userUs + o.serverProc!.sysUs),
      cpu_us_per_execution_redis: per(o.redis.userUs + o.redis.sysUs),
      http_requests_per_execution: per(
        Object.values(o.http).reduce((x, y) => x + y, 0),
        3,
      ),
      redis_commands_per_execution: per(o.redis.commands, 3),
      redis_script_calls_per_execution: per(scriptCalls(o.redis.commandstats), 3),
      bullmq_throughput_per_s: round(n / (bull.ms / 1000), 0),
      bullmq_cpu_us_per_execution_worker: per(bull.proc.userUs + bull.proc.sysUs),
      bullmq_cpu_us_per_execution_redis: per(b.redis.userUs + b.redis.sysUs),
      bullmq_redis_commands_per_execution: per(b.redis.commands, 3),
      bullmq_redis_script_calls_per_execution: per(scriptCalls(b.redis.commandstats), 3),
      cores_busy: round(
        (cuekit.proc.userUs +
          cuekit.proc.sysUs +
          o.serverProc!.userUs +
          o.serverProc!.sysUs +
          o.redis.userUs +
          o.redis.sysUs) /
          (cuekit.ms * 1000),
        2,
      ),
      bullmq_cores_busy: round(
        (bull.proc.userUs + bull.proc.sysUs + b.redis.userUs + b.redis.sysUs) / (bull.ms * 1000),
        2,
      ),
    }
    rounds.push(round_)
    const processes = {
      worker: procFigures(cuekit.proc, n),
      server: procFigures(o.serverProc!, n),
      redis: procFigures(o.redisProc, n),
      bullmq_worker: procFigures(bull.proc, n),
      bullmq_redis: procFigures(b.redisProc, n),
    }
    processDetails.push(processes)
    if (profile) {
      manifest.windows.push(
        { side: 'cuekit', pids: [cuekit.pid, server.process.pid!], ...window(cuekit), processes },
        { side: 'bullmq', pids: [bull.pid], ...window(bull), processes },
      )
    }
    const x = round_
    log(
      `  round ${r + 1}: cuekit ${x.throughput_per_s}/s, bullmq ${x.bullmq_throughput_per_s}/s; enqueue ${round(enqueueOurs.at(-1)!, 0)}/s vs addBulk ${round(enqueueTheirs.at(-1)!, 0)}/s\n` +
        `    cpu µs/execution: cuekit worker ${x.cpu_us_per_execution_worker} + server ${x.cpu_us_per_execution_server} + redis ${x.cpu_us_per_execution_redis}` +
        ` = ${round(x.cpu_us_per_execution_worker + x.cpu_us_per_execution_server + x.cpu_us_per_execution_redis, 1)};` +
        ` bullmq worker ${x.bullmq_cpu_us_per_execution_worker} + redis ${x.bullmq_cpu_us_per_execution_redis}` +
        ` = ${round(x.bullmq_cpu_us_per_execution_worker + x.bullmq_cpu_us_per_execution_redis, 1)}\n` +
        `    per execution: cuekit ${x.http_requests_per_execution} HTTP requests, ${x.redis_commands_per_execution} Redis commands (${x.redis_script_calls_per_execution} script calls);` +
        ` bullmq ${x.bullmq_redis_commands_per_execution} Redis commands (${x.bullmq_redis_script_calls_per_execution} script calls)\n` +
        `    cores busy: cuekit ${x.cores_busy}, bullmq ${x.bullmq_cores_busy}\n` +
        `    per execution, CPU user/sys and syscalls read/write: ${Object.entries(processes)
          .map(([k, v]) => formatProc(k, v))
          .join('; ')}`,
    )
  }
  sampler.disconnect()
  for (const key of Object.keys(rounds[0]!) as (keyof Round)[]) {
    results[key] = median(rounds.map((x) => x[key]))
  }
  results.throughput_ratio = round(results.throughput_per_s! / results.bullmq_throughput_per_s!, 2)
  results.enqueue_per_s = round(median(enqueueOurs), 0)
  results.bullmq_enqueue_per_s = round(median(enqueueTheirs), 0)
  results.enqueue_ratio = round(results.enqueue_per_s / results.bullmq_enqueue_per_s, 2)
  const ourCpu = ['worker', 'server', 'redis'].map((p) => results[`cpu_us_per_execution_${p}`]!)
  const theirCpu = ['worker', 'redis'].map((p) => results[`bullmq_cpu_us_per_execution_${p}`]!)
  results.cpu_us_per_execution = round(
    ourCpu.reduce((x, y) => x + y, 0),
    1,
  )
  results.bullmq_cpu_us_per_execution = round(
    theirCpu.reduce((x, y) => x + y, 0),
    1,
  )
  notes.push(
    `cpu: µs per execution (medians over ${SIZE.rounds} round(s)): cuekit worker + server + redis = ${ourCpu.join(' + ')} = ${results.cpu_us_per_execution};` +
      ` bullmq worker + redis = ${theirCpu.join(' + ')} = ${results.bullmq_cpu_us_per_execution}` +
      ` (${round(results.cpu_us_per_execution / results.bullmq_cpu_us_per_execution, 2)}x)`,
  )
  // Over all rounds: the mean per execution, not a median (a per-command median has no meaning).
  const executions = n * SIZE.rounds
  const byRoute = perExecution(httpByRoute, executions)
  const ourStats = commandstatsPerExecution(ourCommands, executions)
  const theirStats = commandstatsPerExecution(theirCommands, executions)
  Object.assign(details, {
    rounds: rounds.map((x, i) => ({ ...x, processes: processDetails[i] })),
    http_requests_per_execution_by_route: byRoute,
    redis_commandstats_per_execution: ourStats,
    bullmq_redis_commandstats_per_execution: theirStats,
  })
  log(`  HTTP requests per execution by route: ${formatCounts(byRoute)}`)
  log(`  Redis commandstats per execution, cuekit: ${formatCommandstats(ourStats)}`)
  log(`  Redis commandstats per execution, bullmq: ${formatCommandstats(theirStats)}`)
}

async function wake(server: ServerProcess, apiKey: string, call: Api) {
  const { Worker } = await import('@cuekit/sdk')
  const latencies: number[] = []
  let enqueuedAt = 0
  let started: (() => void) | null = null
  const worker = new Worker({
    baseUrl: server.url,
    apiKey,
    workerId: 'bench-wake',
    concurrency: 1,
    waitSeconds: 20,
    handlers: {
      wake: async () => {
        latencies.push(performance.now() - enqueuedAt)
        started?.()
      },
    },
  })
  void worker.start()
  // An idle worker: before each enqueue, wait until its long-poll is waiting on the server (it
  // reports the previous outcome on a claim that does not wait, then long-polls again).
  const idle = () =>
    waitFor(
      async () => (await call<{ waiting_long_polls: number }>('GET', '/v1/stats')).waiting_long_polls >= 1,
      {
        timeoutMs: 10_000,
        intervalMs: 1,
        message: 'the worker did not go back to waiting',
      },
    )
  for (let i = 0; i < SIZE.wake; i++) {
    await idle()
    const handlerStarted = new Promise<void>((r) => {
      started = r
    })
    enqueuedAt = performance.now()
    await call('POST', '/v1/executions', { task: 'wake' })
    await handlerStarted
  }
  await worker.stop({ timeoutMs: 5000 })
  results.wake_p50_ms = round(percentile(latencies, 50), 2)
  results.wake_p99_ms = round(percentile(latencies, 99), 2)
  log(
    `  wake p90 ${round(percentile(latencies, 90), 2)} ms, p95 ${round(percentile(latencies, 95), 2)} ms, max ${round(Math.max(...latencies), 2)} ms`,
  )
}

async function reclaim(call: Api) {
  const n = SIZE.reclaim
  await bulkEnqueue(call, n, 'reclaim')
  // The dead worker: takes every execution, one claim at a time, with a 2 s lease, and never
  // reports. Its leases expire over as long as its claims took.
  const expiries = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const r = await call('POST', '/v1/executions/claim', {
      worker_id: 'dead',
      task: 'reclaim',
      lease_seconds: 2,
    })
    for (const e of r.executions) expiries.set(e.execution_id, Date.parse(e.lease.expires_at))
  }
  const latencies: number[] = []
  const abort = new AbortController()
  // Waiting workers: long-poll claims in loops, up to 10 each (the expiries come in a burst, and the
  // measure is the system's, not one worker's queue). Latency = the new lease's claim time minus
  // the old lease's expiry, both from the server's (Redis) clock.
  const waiters = Array.from({ length: 4 }, async (_, i) => {
    while (latencies.length < n && !abort.signal.aborted) {
      const r = await call(
        'POST',
        '/v1/executions/claim',
        { worker_id: `alive-${i}`, task: 'reclaim', max: 10, wait_seconds: 5, lease_seconds: 600 },
        abort.signal,
      ).catch(() => null)
      for (const e of r?.executions ?? []) {
        const claimedAt = Date.parse(e.lease.expires_at) - e.lease.lease_seconds * 1000
        const expired = expiries.get(e.execution_id)
        if (expired !== undefined) latencies.push(claimedAt - expired)
      }
    }
  })
  await waitFor(() => latencies.length >= n, { timeoutMs: 60_000, message: 'not every lease was reclaimed' })
  abort.abort()
  await Promise.allSettled(waiters)
  results.reclaim_p50_ms = round(percentile(latencies, 50), 1)
  results.reclaim_p99_ms = round(percentile(latencies, 99), 1)
}

async function reapPass(redis: RedisServer) {
  const client = new Redis(redis.port)
  const engine = new Engine({ redis: client, prefix: 'reapbench' })
  const tenant = { id: 'tn_reap', partitions: 1 }
  const live = SIZE.liveLeases
  const expired = SIZE.expiredLeases
  for (let i = 0; i < live + expired; i += 1000) {
    await engine.enqueue(
      tenant,
      Array.from({ length: 1000 }, () => ({ task: i < expired ? 'short' : 'long' })),
    )
  }
  for (let c = 0; c < expired; c += 100) {
    await engine.claim(tenant, { worker_id: 'w', task: 'short', max: 100, lease_seconds: 0.2 })
  }
  for (let c = 0; c < live; c += 100) {
    await engine.claim(tenant, { worker_id: 'w', task: 'long', max: 100, lease_seconds: 3600 })
  }
  await waitFor(
    async () => (await engine.leases(tenant, { limit: expired })).leases.every((l) => l.remaining_ms <= 0),
    { timeoutMs: 10_000 },
  )
  // A pass elsewhere first: Redis compiles each script on its first call (EVAL after NOSCRIPT),
  // which a long-running server pays once, not in every pass.
  await engine.maintainPartition({ tenantId: 'tn_warm', partition: 0 })
  await client.config('RESETSTAT')
  const t = performance.now()
  const pass = await engine.maintainPartition({ tenantId: tenant.id, partition: 0 })
  const roundTrip = performance.now() - t
  const stats = await client.info('commandstats')
  const scripts = [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+),usec=(\d+)/g)].reduce(
    (a, m) => a + Number(m[2]),
    0,
  )
  if (pass.requeued !== expired) throw new Error(`reap re-queued ${pass.requeued}, expected ${expired}`)
  // The pass is promote + reap + purge; Redis time of all three (they ran in one pipeline).
  results.reap_pass_ms = round(scripts / 1000, 2)
  results.reap_pass_round_trip_ms = round(roundTrip, 2)
  client.disconnect()
}

/** RSS of a process in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

async function idleWaiters(redisUrl: string) {
  const server = await startServerProcess({ redisUrl, env: { LOG_LEVEL: 'warn', CUEKIT_RATE_LIMIT: '0' } })
  const { api_key } = await createTenant(server.url, server.adminKey)
  const call = api(server.url, api_key)
  const rssBefore = rssMb(server.process.pid!)
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
  const body = JSON.stringify({ worker_id: 'idle', task: 'idle', wait_seconds: 30 })
  let answered = 0
  const pending = new Set<() => void>()
  const onAnswer: ((claimed: boolean) => void)[] = []
  const poll = () =>
    new Promise<void>((resolve) => {
      const req = request(
        `${server.url}/v1/executions/claim`,
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = ''
          res.on('data', (d) => {
            text += d
          })
          res.on('end', () => {
            answered++
            const claimed = text.includes('"claimed":true')
            onAnswer.shift()?.(claimed)
            resolve()
          })
        },
      )
      req.on('error', () => resolve())
      pending.add(() => req.destroy())
      req.end(body)
    })
  const waiting = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text()
    return Number(/cuekit_waiting_long_polls (\d+)/.exec(text)?.[1] ?? 0)
  }
  const polls: Promise<void>[] = []
  for (let i = 0; i < SIZE.waiters; i += 500) {
    for (let j = i; j < Math.min(SIZE.waiters, i + 500); j++) polls.push(poll())
    await waitFor(async () => (await waiting()) >= Math.min(SIZE.waiters, i + 500), { timeoutMs: 20_000 })
  }
  const rss = rssMb(server.process.pid!)
  // Where the resident memory is: the server's own gauges (prom-client's default metrics).
  const gauges = await (await fetch(`${server.url}/metrics`)).text()
  const mb = (name: string) =>
    round(
      Number(new RegExp(`^cuekit_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(gauges)?.[1] ?? 0) / 2 ** 20,
      1,
    )
  details.waiters_memory_mb = {
    rss,
    heap_total: mb('nodejs_heap_size_total_bytes'),
    heap_used: mb('nodejs_heap_size_used_bytes'),
    external: mb('nodejs_external_memory_bytes'),
    new_space: mb('nodejs_heap_space_size_total_bytes\\{space="new"\\}'),
  }
  log(`  waiters memory (MB): ${JSON.stringify(details.waiters_memory_mb)}`)
  // Wake latency while they all wait: enqueue one, time until a waiting claim answers with it.
  const latencies: number[] = []
  for (let i = 0; i < SIZE.wakeUnderLoad; i++) {
    const answeredWith = new Promise<boolean>((r) => onAnswer.push(r))
    const t = performance.now()
    await call('POST', '/v1/executions', { task: 'idle' })
    if (await answeredWith) latencies.push(performance.now() - t)
    polls.push(poll())
  }
  results.waiters = SIZE.waiters
  results.waiters_rss_mb = round(rss, 0)
  results.waiters_rss_before_mb = round(rssBefore, 0)
  results.waiters_wake_p99_ms = round(percentile(latencies, 99), 2)
  results.waiters_wake_p50_ms = round(percentile(latencies, 50), 2)
  for (const cancel of pending) cancel()
  agent.destroy()
  await server.stop()
  if (answered < SIZE.wakeUnderLoad) notes.push('idle waiters: fewer answers than enqueues')
}

async function memory(redis: RedisServer) {
  const client = new Redis(redis.port)
  const engine = new Engine({ redis: client, prefix: 'membench' })
  const tenant = { id: 'tn_AbCdEf123456', partitions: 1 }
  const payload = { data: 'x'.repeat(89) }
  const payloadBytes = JSON.stringify(payload).length
  await engine.enqueue(tenant, [{ task: 'send-email', payload }])
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1])
  const before = await used()
  for (let i = 0; i < SIZE.memory; i += 1000) {
    await engine.enqueue(
      tenant,
      Array.from({ length: 1000 }, () => ({ task: 'send-email', payload })),
    )
  }
  const perExecution = (await used()) - before
  results.bytes_per_execution = round(perExecution / SIZE.memory - payloadBytes, 0)
  results.payload_bytes = payloadBytes
  client.disconnect()
}

// ---------------------------------------------------------------- main

async function main() {
  const redis = await startRedisServer()
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const server = await startServerProcess({
    redisUrl: redis.url,
    env: { LOG_LEVEL: 'warn', CUEKIT_RATE_LIMIT: '0' },
    nodeArgs,
  })
  if (profile) {
    // start.mjs deletes its bundle once loaded; the same sources bundle to the same lines, and
    // profile.ts needs them to name the source file of each bundled function.
    const copy = join(profileDir, 'server.mjs')
    await bundle(fileURLToPath(new URL('../../apps/server/src/main.ts', import.meta.url)), copy)
    manifest.processes.push({
      pid: server.process.pid!,
      role: 'server',
      bundle: join(cacheDir, `server-${server.process.pid}.mjs`),
      copy,
    })
  }
  const { api_key } = await createTenant(server.url, server.adminKey)
  const call = api(server.url, api_key)
  const scenarios: [string, () => Promise<void>][] = [
    ['throughput', () => throughput(redis, server, call, api_key)],
    ['wake', () => wake(server, api_key, call)],
    ['reclaim', () => reclaim(call)],
    ['reap', () => reapPass(redis)],
    ['waiters', () => idleWaiters(redis.url)],
    ['memory', () => memory(redis)],
  ]
  const started = Date.now()
  try {
    for (const [name, run] of scenarios) {
      if (only && !only.has(name)) continue
      const t = Date.now()
      log(`${name}...`)
      await run()
      log(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    }
  } finally {
    await server.stop()
    await redis.stop()
    rmSync(bundles, { recursive: true, force: true })
  }
  if (profile) {
    writeFileSync(join(profileDir, 'bench-manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    log(`profiles in ${profileDir}/: node --import tsx scripts/bench/profile.ts summarises them`)
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${round(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`
  const rows: [string, string, string][] = [
    ['throughput_per_s', 'SDK worker (1 process, concurrency 16, defaults)', '>= 1.5x BullMQ'],
    ['bullmq_throughput_per_s', 'BullMQ Worker (1 process, concurrency 16)', ''],
    ['throughput_ratio', 'Cuekit / BullMQ', '>= 1.5'],
    ['cpu_us_per_execution_worker', 'CPU µs per execution: SDK worker (process.cpuUsage)', ''],
    ['cpu_us_per_execution_server', 'CPU µs per execution: server (/proc/<pid>/stat)', ''],
    ['cpu_us_per_execution_redis', 'CPU µs per execution: Redis (INFO cpu)', ''],
    ['cpu_us_per_execution', 'worker + server + redis', '~55'],
    ['bullmq_cpu_us_per_execution_worker', 'CPU µs per execution: BullMQ worker', ''],
    ['bullmq_cpu_us_per_execution_redis', 'CPU µs per execution: Redis, BullMQ rounds', ''],
    ['bullmq_cpu_us_per_execution', 'worker + redis', ''],
    ['cores_busy', 'cores the three processes kept busy (CPU / window)', ''],
    ['bullmq_cores_busy', 'cores BullMQ worker + Redis kept busy', ''],
    ['http_requests_per_execution', 'HTTP requests the server answered (/metrics)', ''],
    ['redis_commands_per_execution', 'Redis commands (total_commands_processed, incl. inside scripts)', ''],
    ['redis_script_calls_per_execution', 'of which script calls (EVALSHA/EVAL/FCALL)', ''],
    ['bullmq_redis_commands_per_execution', 'Redis commands, BullMQ rounds (same count)', ''],
    ['bullmq_redis_script_calls_per_execution', 'of which script calls', ''],
    ['enqueue_per_s', 'bulk endpoint, 1,000 per request', ''],
    ['bullmq_enqueue_per_s', 'BullMQ addBulk, 1,000 per call', ''],
    ['enqueue_ratio', 'Cuekit / BullMQ', '>= 1'],
    ['wake_p50_ms', 'enqueue -> handler start, idle worker', ''],
    ['wake_p99_ms', '', '<= 5'],
    ['reclaim_p50_ms', 'lease expiry -> claimed again (Redis clock)', ''],
    ['reclaim_p99_ms', '', '<= 50'],
    [
      'reap_pass_ms',
      `one pass: ${SIZE.liveLeases} live + ${SIZE.expiredLeases} expired leases (Redis time)`,
      '<= 10',
    ],
    ['waiters', 'concurrent waiting claims on one server', '10,000'],
    ['waiters_rss_mb', 'server RSS while they wait', '<= 250'],
    ['waiters_wake_p99_ms', 'enqueue -> a waiting claim answers', '<= 10'],
    ['bytes_per_execution', 'Redis bytes per queued execution, excl. payload', '<= 300'],
  ]
  const lines = [
    `Cuekit bench${quick ? ' (--quick)' : ''}: ${machine}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    '| metric | value | what | target |',
    '|---|---|---|---|',
    ...rows
      .filter(([k]) => k in results)
      .map(([k, what, target]) => `| ${k} | ${results[k]} | ${what} | ${target} |`),
    ...notes.map((n) => `note: ${n}`),
  ]
  console.log(lines.join('\n'))
  if (jsonFile) {
    writeFileSync(jsonFile, `${JSON.stringify({ machine, quick, ...results, details }, null, 2)}\n`)
  }
}

await main()
process.exit(0)
