// `npm run chaos [-- --quick] [-- --json FILE] [-- --fsync always|everysec] [-- --cluster]
//  [-- --servers 1|2] [-- --calm]`
// A soak under faults: Redis with AOF, server processes and SDK worker processes; workers and a
// server are SIGKILLed and restarted, Redis is restarted once from its AOF. At the end every
// execution the API acknowledged must be terminal, and no outcome from a dead lease may have
// been recorded. Exits non-zero on any loss or stale outcome. See docs/reliability.md.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isTerminal } from '@cuekit/protocol'
import { api } from '../bench/http.ts'
import { type RedisCluster, startRedisCluster } from '../lib/redis-cluster.ts'
import { type RedisServer, startRedisServer } from '../lib/redis-server.ts'
import { createTenant, type ServerProcess, startServerProcess } from '../lib/server-process.ts'

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const option = (name: string, fallback: string) => (flag(name) ? args[args.indexOf(name) + 1]! : fallback)
const quick = flag('--quick')
const cluster = flag('--cluster')
const calm = flag('--calm')
const fsync = option('--fsync', 'always')
const N = Number(option('--n', quick ? '2000' : '20000'))
const serverCount = Number(option('--servers', '2'))
const workerCount = Number(option('--workers', quick ? '3' : '4'))
const jsonFile = flag('--json') ? option('--json', '') : undefined
const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url))

const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!

interface Counters {
  worker_kills: number
  server_kills: number
  redis_restarts: number
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'cuekit-chaos-'))
  const aof = ['--appendonly', 'yes', '--appendfsync', fsync, '--save', '']
  let redis: RedisServer | null = null
  let redisCluster: RedisCluster | null = null
  let env: Record<string, string>
  if (cluster) {
    redisCluster = await startRedisCluster(3, aof)
    env = { REDIS_CLUSTER_NODES: redisCluster.seeds, CUEKIT_PARTITIONS: '6' }
  } else {
    redis = await startRedisServer({ args: aof })
    env = { REDIS_URL: redis.url }
  }
  log(
    `redis ${cluster ? '3-master cluster' : 'single'} with appendfsync ${fsync}; ${serverCount} server(s), ${workerCount} workers, ${N} executions`,
  )
  const servers: ServerProcess[] = []
  for (let i = 0; i < serverCount; i++) {
    servers.push(await startServerProcess({ env: { ...env, LOG_LEVEL: 'error', CUEKIT_RATE_LIMIT: '0' } }))
  }
  const { api_key } = await createTenant(servers[0]!.url, servers[0]!.adminKey)
  const counters: Counters = { worker_kills: 0, server_kills: 0, redis_restarts: 0 }

  // Workers: each talks to one server (round robin) and records its runs in its own file.
  const workers: { proc: ChildProcess; url: string; file: string }[] = []
  let workerSeq = 0
  const startWorker = (url: string) => {
    const file = join(dir, `records-${workerSeq++}.log`)
    const proc = spawn(process.execPath, ['--conditions=cuekit-source', '--import', 'tsx', workerFile], {
      env: {
        ...process.env,
        CUEKIT_URL: url,
        CUEKIT_API_KEY: api_key,
        RECORDS: file,
        CONCURRENCY: '8',
        LEASE_SECONDS: '3',
      },
      stdio: 'ignore',
    })
    workers.push({ proc, url, file })
  }

  // Enqueue everything first, recording what the API acknowledged.
  const acknowledged: string[] = []
  const started = Date.now()
  for (let i = 0; i < N; i += 1000) {
    const call = api(servers[(i / 1000) % servers.length]!.url, api_key)
    const r = await call('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
        task: 'chaos',
        payload: { n: i + k },
        max_attempts: 25,
      })),
    })
    acknowledged.push(...r.execution_ids)
  }
  for (let i = 0; i < workerCount; i++) startWorker(servers[i % servers.length]!.url)
  const call = () => api(pick(servers.filter((s) => s.process.exitCode === null)).url, api_key)
  const terminal = async () => {
    const { queues } = await call()('GET', '/v1/queues')
    const q = queues.find((x: { task: string }) => x.task === 'chaos')
    return q ? q.success + q.failed + q.cancelled : 0
  }

  // Faults while they run.
  let done = 0
  let serverKilled = false
  let redisRestarted = false
  const drainDeadline = Date.now() + (quick ? 180_000 : 900_000)
  while (Date.now() < drainDeadline) {
    done = await terminal().catch(() => done)
    if (done >= acknowledged.length) break
    if (!calm) {
      // A random worker dies every few seconds and comes back.
      const victim = pick(workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null))
      victim.proc.kill('SIGKILL')
      counters.worker_kills++
      startWorker(victim.url)
      const elapsed = Date.now() - started
      if (!serverKilled && elapsed > (quick ? 2500 : 10_000)) {
        serverKilled = true
        const server = servers[servers.length - 1]!
        log('SIGKILL a server')
        await server.restart()
        counters.server_kills++
      }
      if (!redisRestarted && elapsed > (quick ? 4500 : 25_000)) {
        redisRestarted = true
        log(`SIGKILL Redis${cluster ? ' (one master)' : ''} and restart it from its AOF`)
        if (redis) await redis.restart()
        else await redisCluster!.nodes[0]!.restart()
        counters.redis_restarts++
      }
    }
    log(`${done}/${acknowledged.length} terminal`)
    await sleep(quick ? 1000 : 2500)
  }
  const drainSeconds = (Date.now() - started) / 1000
  log(`drained in ${drainSeconds.toFixed(1)} s; checking every execution`)

  // Verdict: every acknowledged execution terminal; every duplicate run explained; no stale outcome.
  const runs = new Map<string, number[]>()
  for (const w of workers) {
    let text = ''
    try {
      text = readFileSync(w.file, 'utf8')
    } catch {}
    for (const line of text.split('\n')) {
      const [id, epoch] = line.split(' ')
      if (!id || !epoch) continue
      const list = runs.get(id) ?? []
      list.push(Number(epoch))
      runs.set(id, list)
    }
  }
  for (const w of workers) w.proc.kill('SIGTERM')
  let lost = 0
  let succeeded = 0
  let staleOutcomes = 0
  let duplicates = 0
  let duplicatesExplained = 0
  const check = call()
  for (let i = 0; i < acknowledged.length; i += 50) {
    const batch = acknowledged.slice(i, i + 50)
    const records = await Promise.all(
      batch.map((id) => check(`GET`, `/v1/executions/${id}`).catch(() => null)),
    )
    records.forEach((rec, k) => {
      const id = batch[k]!
      if (!rec || !isTerminal(rec.status)) {
        lost++
        return
      }
      if (rec.status === 'success') succeeded++
      const attempts = rec.history as { epoch: number; outcome: string | null }[]
      const successes = attempts.filter((a) => a.outcome === 'success')
      const last = attempts.at(-1)
      // A recorded success must be the one and only, from the latest lease.
      if (successes.length > 1 || (successes.length === 1 && successes[0] !== last)) staleOutcomes++
      const epochs = runs.get(id) ?? []
      const extra = epochs.length - 1
      if (extra > 0) {
        duplicates += extra
        // Every run but the last must belong to a lease that expired or was released.
        const ended = new Map(attempts.map((a) => [a.epoch, a.outcome]))
        const finalEpoch = last?.epoch
        const unexplained = epochs.filter(
          (e) => e !== finalEpoch && !['lease_expired', 'released'].includes(String(ended.get(e))),
        )
        if (unexplained.length === 0) duplicatesExplained += extra
      }
    })
  }
  const report = {
    mode: cluster ? 'cluster' : 'single',
    appendfsync: fsync,
    servers: serverCount,
    enqueued: acknowledged.length,
    succeeded,
    lost,
    stale_outcomes_accepted: staleOutcomes,
    duplicates,
    duplicates_explained: duplicatesExplained,
    drain_seconds: Math.round(drainSeconds * 10) / 10,
    throughput_per_s: Math.round(acknowledged.length / drainSeconds),
    ...counters,
  }
  console.log(JSON.stringify(report, null, 2))
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`)
  await Promise.all(servers.map((s) => s.stop()))
  await redis?.stop()
  await redisCluster?.stop()
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true })
  rmSync(dir, { recursive: true, force: true })
  const ok = lost === 0 && staleOutcomes === 0 && duplicatesExplained === duplicates
  process.exit(ok ? 0 : 1)
}

await main()
