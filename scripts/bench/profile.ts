// `node --import tsx scripts/bench/profile.ts [DIR] [--top N] [--callers N] [--depth N]`: where the CPU of the throughput
// scenario goes, from the V8 profiles `npm run bench -- --only throughput --cpu-prof` leaves in DIR
// (default artifacts/profiles). Only samples inside the timed windows count (the manifest the bench
// writes holds each window on the monotonic clock the profiles use, and which process is which);
// self time is summed by function, by source file and by package, and bundled code is mapped back
// to its source file through the `// path` comments esbuild puts before each module.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ProfileManifest {
  processes: { pid: number; role: string; bundle: string; copy: string }[]
  windows: {
    side: 'cuekit' | 'bullmq'
    pids: number[]
    start_us: number
    end_us: number
    n: number
    /** Per execution, by process (main.ts procFigures). */
    processes: Record<string, Record<string, number>>
  }[]
}

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[]; hitCount?: number }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The key of each profiled role in a window's `processes`. */
const PROCESS_KEY: Record<string, string> = {
  server: 'server',
  'cuekit-worker': 'worker',
  'bullmq-worker': 'bullmq_worker',
}

/** Source file of each line of a bundle, from esbuild's `// path/to/module.ts` headers. */
function bundleMap(copy: string): (line: number) => string {
  const starts: [number, string][] = []
  readFileSync(copy, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(text)
      if (m) starts.push([i, m[1]!])
    })
  return (line) => {
    let lo = 0
    let hi = starts.length - 1
    let found = '(bundle)'
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid]![0] <= line) {
        found = starts[mid]![1]
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }
}

/** A short source name for a profile URL: a repo path, `pkg/path` under node_modules, or node:... */
function sourceOf(url: string, line: number, bundles: Map<string, (line: number) => string>): string {
  if (!url) return '(native)'
  if (!url.startsWith('file:')) return url
  const path = fileURLToPath(url)
  const bundled = bundles.get(path)
  if (bundled) return bundled(line)
  const nm = path.lastIndexOf('/node_modules/')
  return nm >= 0 ? path.slice(nm + '/node_modules/'.length) : path
}

const packageOf = (source: string) => {
  if (source.startsWith('(')) return source
  if (source.startsWith('node:')) return source.startsWith('node:internal/') ? 'node:internal' : source
  const parts = source.split('/')
  if (parts[0] === 'packages' || parts[0] === 'apps' || parts[0] === 'scripts')
    return parts.slice(0, 2).join('/')
  return parts[0]!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

interface Tally {
  role: string
  byFunction: Map<string, number>
  byFile: Map<string, number>
  byPackage: Map<string, number>
  /** Samples V8 took at a deoptimization, by function. */
  deopts: Map<string, number>
  /** Self time of a function by the chain of its callers (nearest first). */
  callers: Map<string, Map<string, number>>
  idleUs: number
  totalUs: number
  windowUs: number
  executions: number
  /** Sums over the windows of the per-execution figures × n, to average per execution. */
  measured: Record<string, number>
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)

function tallyProcess(
  file: string,
  depth: number,
  windows: ProfileManifest['windows'],
  bundles: Map<string, (line: number) => string>,
  t: Tally,
) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const parents = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id)
  // Bundled code has no source lines (no source map): its bundle line tells functions apart.
  const name = (frame: CallFrame) => {
    const source = sourceOf(frame.url, frame.lineNumber, bundles)
    if (!frame.url) return frame.functionName || '(anonymous native)'
    const bundled = frame.url.startsWith('file:') && bundles.has(fileURLToPath(frame.url))
    const line = bundled ? `bundle:${frame.lineNumber + 1}` : frame.lineNumber + 1
    return `${frame.functionName || '(anonymous)'} ${source} ${line}`
  }
  let at = profile.startTime
  const times = profile.timeDeltas.map((d) => {
    at += d
    return at
  })
  // Besides its timer ticks V8 records a sample at each deoptimization. A node's hitCount counts
  // only ticks, so its other samples are those: they come between ticks, and weighting them like
  // ticks would charge the deoptimized function with the time until the next tick. They are
  // counted apart (a function deoptimizing thousands of times is a finding of its own), and of a
  // node's samples the ones closest after the previous tick are taken for them.
  const extra = new Map<number, number>()
  for (const id of profile.samples) extra.set(id, (extra.get(id) ?? 0) + 1)
  for (const n of profile.nodes) extra.set(n.id, (extra.get(n.id) ?? 0) - (n.hitCount ?? 0))
  const tickDeltas = profile.timeDeltas.filter((_, i) => (extra.get(profile.samples[i]!) ?? 0) <= 0)
  const interval = tickDeltas.sort((x, y) => x - y)[tickDeltas.length >> 1] ?? 1000
  const ticks: number[] = []
  let lastTick = Number.NEGATIVE_INFINITY
  for (let i = 0; i < times.length; i++) {
    const time = times[i]!
    const id = profile.samples[i]!
    const left = extra.get(id) ?? 0
    if (left > 0 && time - lastTick < 0.9 * interval) {
      extra.set(id, left - 1)
      if (windows.some((w) => time >= w.start_us && time < w.end_us)) add(t.deopts, name(nodes.get(id)!), 1)
    } else {
      lastTick = time
      ticks.push(i)
    }
  }
  // The last tick has no known end and is left out.
  for (let k = 0; k + 1 < ticks.length; k++) {
    const i = ticks[k]!
    const time = times[i]!
    if (!windows.some((w) => time >= w.start_us && time < w.end_us)) continue
    const us = times[ticks[k + 1]!]! - time
    const frame = nodes.get(profile.samples[i]!)!
    t.totalUs += us
    if (frame.functionName === '(idle)') {
      t.idleUs += us
      continue
    }
    const source = sourceOf(frame.url, frame.lineNumber, bundles)
    const self = name(frame)
    add(t.byFunction, self, us)
    const chain: string[] = []
    for (
      let id = parents.get(profile.samples[i]!);
      id !== undefined && chain.length < depth;
      id = parents.get(id)
    ) {
      const caller = nodes.get(id)!
      if (caller.functionName !== '(root)') chain.push(name(caller))
    }
    const callers = t.callers.get(self) ?? new Map<string, number>()
    t.callers.set(self, callers)
    add(callers, chain.join(' < ') || '(root)', us)
    add(t.byFile, source, us)
    add(t.byPackage, packageOf(source), us)
  }
  for (const w of windows) {
    t.windowUs += w.end_us - w.start_us
    t.executions += w.n
    const figures = w.processes[PROCESS_KEY[t.role] ?? ''] ?? {}
    for (const [k, v] of Object.entries(figures)) t.measured[k] = (t.measured[k] ?? 0) + v * w.n
  }
}

function report(role: string, t: Tally, top: number, callersOf: number, depth: number): string {
  const busy = t.totalUs - t.idleUs
  const per = (k: string) => ((t.measured[k] ?? Number.NaN) / t.executions).toFixed(1)
  const lines = [
    `## ${role}: ${t.executions} executions in ${(t.windowUs / 1e6).toFixed(2)} s of windows`,
    '',
    `Per execution: main thread sampled busy ${(busy / t.executions).toFixed(1)} µs (wall clock, ${((100 * busy) / t.windowUs).toFixed(0)} % of the windows);` +
      ` main thread on a CPU ${per('main_thread_on_cpu_us')} µs and runnable waiting for one ${per('main_thread_runqueue_wait_us')} µs (schedstat);` +
      ` process CPU, all threads: user ${per('cpu_user_us')} + sys ${per('cpu_sys_us')} µs; syscalls read ${per('read_syscalls')}, write ${per('write_syscalls')}.`,
  ]
  const table = (title: string, m: Map<string, number>) => {
    lines.push('', `| ${title} | self ms | % of busy | sampled µs/execution |`, '|---|---|---|---|')
    for (const [k, us] of [...m].sort(([, a], [, b]) => b - a).slice(0, top)) {
      lines.push(
        `| ${k} | ${(us / 1000).toFixed(1)} | ${((100 * us) / busy).toFixed(1)} | ${(us / t.executions).toFixed(2)} |`,
      )
    }
  }
  table('function (self time)', t.byFunction)
  lines.push('', `Callers (${depth} frames, nearest first) of the top ${callersOf}:`)
  for (const [fn] of [...t.byFunction].sort(([, a], [, b]) => b - a).slice(0, callersOf)) {
    const callers = [...(t.callers.get(fn) ?? [])].sort(([, a], [, b]) => b - a)
    const total = callers.reduce((sum, [, us]) => sum + us, 0)
    lines.push(`- ${fn}:`)
    for (const [chain, us] of callers.slice(0, 3))
      lines.push(`  - ${((100 * us) / total).toFixed(0)} % ${chain}`)
  }
  const deopts = [...t.deopts].sort(([, a], [, b]) => b - a)
  const deoptCount = deopts.reduce((sum, [, n]) => sum + n, 0)
  lines.push(
    '',
    `Deoptimization samples (between timer ticks): ${deoptCount}, ${(deoptCount / t.executions).toFixed(3)} per execution` +
      (deopts.length
        ? `; most: ${deopts
            .slice(0, 5)
            .map(([fn, n]) => `${fn} ${n}`)
            .join(', ')}`
        : ''),
  )
  table('file', t.byFile)
  table('package', t.byPackage)
  return lines.join('\n')
}

function main() {
  const args = process.argv.slice(2)
  const option = (name: string, fallback: number) =>
    args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback
  const top = option('--top', 15)
  const callersOf = option('--callers', 5)
  const depth = option('--depth', 3)
  const dir =
    args.find((a, i) => !a.startsWith('--') && !['--top', '--callers', '--depth'].includes(args[i - 1]!)) ??
    'artifacts/profiles'
  const manifest = JSON.parse(readFileSync(join(dir, 'bench-manifest.json'), 'utf8')) as ProfileManifest
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  const bundles = new Map(manifest.processes.map((p) => [p.bundle, bundleMap(p.copy)]))
  const tallies = new Map<string, Tally>()
  for (const p of manifest.processes) {
    const file = files.find((f) => f.split('.')[3] === String(p.pid))
    const windows = manifest.windows.filter((w) => w.pids.includes(p.pid))
    if (!file || windows.length === 0) {
      console.error(`no profile or no window for ${p.role} (pid ${p.pid})`)
      continue
    }
    let t = tallies.get(p.role)
    if (!t) {
      t = {
        role: p.role,
        byFunction: new Map(),
        byFile: new Map(),
        byPackage: new Map(),
        callers: new Map(),
        deopts: new Map(),
        idleUs: 0,
        totalUs: 0,
        windowUs: 0,
        executions: 0,
        measured: {},
      }
      tallies.set(p.role, t)
    }
    tallyProcess(join(dir, file), depth, windows, bundles, t)
  }
  console.log([...tallies.values()].map((t) => report(t.role, t, top, callersOf, depth)).join('\n\n'))
  console.log(
    '\nSampled time is wall clock: a sample falling while the main thread waits for a CPU is taken when it' +
      ' resumes, in the frame it was preempted in (often the write syscall that woke its peer), so on a busy' +
      ' machine those frames are over-counted and sampled busy exceeds the time on a CPU.',
  )
}

main()
