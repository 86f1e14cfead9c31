// `node --import tsx scripts/bench/profile.ts [DIR] [--top N] [--callers N]`: where the CPU of the throughput
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
    [figure: string]: unknown
  }[]
}

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The measured CPU per execution of each role (all threads), named as in the bench's figures. */
const MEASURED: Record<string, string> = {
  server: 'cpu_us_per_execution_server',
  'cuekit-worker': 'cpu_us_per_execution_worker',
  'bullmq-worker': 'bullmq_cpu_us_per_execution_worker',
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
  /** Self time of a function by the chain of its callers (nearest first). */
  callers: Map<string, Map<string, number>>
  idleUs: number
  totalUs: number
  windowUs: number
  executions: number
  measured: number[]
}

const CALLER_DEPTH = 3

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)

function tallyProcess(
  file: string,
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
  // A sample lasts until the next one (the last has no known end and is left out).
  let at = profile.startTime
  const times = profile.timeDeltas.map((d) => {
    at += d
    return at
  })
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    const time = times[i]!
    if (!windows.some((w) => time >= w.start_us && time < w.end_us)) continue
    const us = times[i + 1]! - time
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
      id !== undefined && chain.length < CALLER_DEPTH;
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
    const key = MEASURED[t.role]
    if (key && typeof w[key] === 'number') t.measured.push(w[key] as number)
  }
}

function report(role: string, t: Tally, top: number, callersOf: number): string {
  const busy = t.totalUs - t.idleUs
  const measured = t.measured.length ? t.measured.reduce((a, b) => a + b, 0) / t.measured.length : Number.NaN
  const lines = [
    `## ${role}: ${t.executions} executions in ${(t.windowUs / 1e6).toFixed(2)} s of windows; main thread busy ${(busy / 1e6).toFixed(2)} s` +
      ` (${((100 * busy) / t.windowUs).toFixed(0)} %), ${(busy / t.executions).toFixed(1)} µs sampled per execution;` +
      ` measured CPU (all threads) ${measured.toFixed(1)} µs per execution`,
  ]
  const table = (title: string, m: Map<string, number>) => {
    lines.push('', `| ${title} | self ms | % of busy | ≈ µs/execution |`, '|---|---|---|---|')
    for (const [k, us] of [...m].sort(([, a], [, b]) => b - a).slice(0, top)) {
      const share = us / busy
      lines.push(
        `| ${k} | ${(us / 1000).toFixed(1)} | ${(100 * share).toFixed(1)} | ${(share * measured).toFixed(2)} |`,
      )
    }
  }
  table('function (self time)', t.byFunction)
  lines.push('', `Callers (${CALLER_DEPTH} frames, nearest first) of the top ${callersOf}:`)
  for (const [fn] of [...t.byFunction].sort(([, a], [, b]) => b - a).slice(0, callersOf)) {
    const callers = [...(t.callers.get(fn) ?? [])].sort(([, a], [, b]) => b - a)
    const total = callers.reduce((sum, [, us]) => sum + us, 0)
    lines.push(`- ${fn}:`)
    for (const [chain, us] of callers.slice(0, 3))
      lines.push(`  - ${((100 * us) / total).toFixed(0)} % ${chain}`)
  }
  table('file', t.byFile)
  table('package', t.byPackage)
  return lines.join('\n')
}

function main() {
  const args = process.argv.slice(2)
  const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 15
  const callersOf = args.includes('--callers') ? Number(args[args.indexOf('--callers') + 1]) : 5
  const dir =
    args.find((a, i) => !a.startsWith('--') && !['--top', '--callers'].includes(args[i - 1]!)) ??
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
        idleUs: 0,
        totalUs: 0,
        windowUs: 0,
        executions: 0,
        measured: [],
      }
      tallies.set(p.role, t)
    }
    tallyProcess(join(dir, file), windows, bundles, t)
  }
  console.log([...tallies.values()].map((t) => report(t.role, t, top, callersOf)).join('\n\n'))
  console.log(
    "\n≈ µs/execution = share of the main thread's busy samples × the measured CPU per execution of the process" +
      ' (which also counts GC helper and libuv threads).',
  )
}

main()
