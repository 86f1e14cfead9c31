// The CPU budget of the throughput scenario: what each process spent over a child's timed window,
// read from outside the process so that measuring costs the measured path nothing.
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

const CLOCK_TICK_US = 10_000 // USER_HZ is 100 on every Linux the bench runs on

/** What a process spent so far: CPU (all threads), syscalls, and its main thread's scheduling. */
export interface ProcSample {
  userUs: number
  sysUs: number
  /** read(2)/write(2)-family syscalls (syscr/syscw of /proc/<pid>/io; writev and recv count too). */
  reads: number
  writes: number
  /** The main thread's time on a CPU and runnable but waiting for one (/proc/<pid>/schedstat). */
  mainRunUs: number
  mainWaitUs: number
}

/**
 * A process's counters from /proc. The CPU times come from /proc/<pid>/stat, whose resolution is
 * one clock tick (10 ms): over a window of a few seconds that is below 1 %.
 */
export function sampleProc(pid: number | 'self'): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 here.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const io = readFileSync(`/proc/${pid}/io`, 'utf8')
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number)
  return {
    userUs: Number(fields[11]) * CLOCK_TICK_US,
    sysUs: Number(fields[12]) * CLOCK_TICK_US,
    reads: Number(/^syscr: (\d+)/m.exec(io)?.[1]),
    writes: Number(/^syscw: (\d+)/m.exec(io)?.[1]),
    mainRunUs: run! / 1000,
    mainWaitUs: wait! / 1000,
  }
}

export function procDelta(before: ProcSample, after: ProcSample): ProcSample {
  const d = { ...after }
  for (const k of Object.keys(d) as (keyof ProcSample)[]) d[k] -= before[k]
  return d
}

export type Commandstats = Record<string, { calls: number; usec: number }>

export interface RedisSample {
  /** used_cpu_user and used_cpu_sys of the redis-server process, in µs. */
  userUs: number
  sysUs: number
  /**
   * total_commands_processed: every command Redis ran, including each redis.call() inside a script
   * as well as the EVALSHA that ran it.
   */
  commands: number
  commandstats: Commandstats
}

/** One INFO (three sections in one command, so sampling adds exactly one INFO call to a window). */
export async function sampleRedis(client: Redis): Promise<RedisSample> {
  const info = String(await client.call('INFO', 'cpu', 'stats', 'commandstats'))
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
  const commandstats: Commandstats = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    commandstats[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) }
  }
  return {
    userUs: Math.round(field('used_cpu_user') * 1e6),
    sysUs: Math.round(field('used_cpu_sys') * 1e6),
    commands: field('total_commands_processed'),
    commandstats,
  }
}

/** The commands of a window, less the one INFO that sampled its start (the closing INFO counts after it). */
export function redisDelta(before: RedisSample, after: RedisSample) {
  const commandstats: Commandstats = {}
  for (const [name, a] of Object.entries(after.commandstats)) {
    if (name === 'info') continue
    const b = before.commandstats[name] ?? { calls: 0, usec: 0 }
    if (a.calls > b.calls) commandstats[name] = { calls: a.calls - b.calls, usec: a.usec - b.usec }
  }
  const infoCalls = (after.commandstats.info?.calls ?? 0) - (before.commandstats.info?.calls ?? 0)
  return {
    userUs: after.userUs - before.userUs,
    sysUs: after.sysUs - before.sysUs,
    commands: after.commands - before.commands - infoCalls,
    commandstats,
  }
}

/** HTTP requests the server answered so far by `METHOD route`, from its request-duration histogram. */
export async function sampleHttp(serverUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text()
  const counts: Record<string, number> = {}
  for (const m of text.matchAll(/^cuekit_http_request_duration_seconds_count\{([^}]*)\} (\d+)/gm)) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[1]!)?.[1] ?? '?'
    const key = `${label('method')} ${label('route')}`
    counts[key] = (counts[key] ?? 0) + Number(m[2])
  }
  if (Object.keys(counts).length === 0) {
    throw new Error('/metrics has no cuekit_http_request_duration_seconds_count: cannot count requests')
  }
  return counts
}

/** Requests of a window by route, less the /metrics scrape that sampled its start. */
export function httpDelta(before: Record<string, number>, after: Record<string, number>) {
  const byRoute: Record<string, number> = {}
  for (const [route, n] of Object.entries(after)) {
    if (route === 'GET /metrics') continue
    const d = n - (before[route] ?? 0)
    if (d > 0) byRoute[route] = d
  }
  return byRoute
}

/** Adds `b`'s counts into `a` (totals over the rounds). */
export function addCounts(a: Record<string, number>, b: Record<string, number>): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v
}

export function addCommandstats(a: Commandstats, b: Commandstats): void {
  for (const [k, v] of Object.entries(b)) {
    const p = a[k] ?? { calls: 0, usec: 0 }
    a[k] = { calls: p.calls + v.calls, usec: p.usec + v.usec }
  }
}
