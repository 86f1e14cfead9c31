// The child side of a bench child's timed window (see `child()` in main.ts). The parent samples the
// other processes (server /proc, Redis INFO, /metrics) between our lines, so every figure covers
// the same window and nothing of the child's start-up or shutdown:
//   child: {"ready":true}   parent: samples, then "go"
//   child: {"ms", "n", "proc", "start_us", "end_us"}   parent: samples, then "stop"
import { createInterface } from 'node:readline'
import { type ProcSample, procDelta, sampleProc } from './budget.ts'

export interface WindowResult {
  ms: number
  n: number
  /** This process over the window; its CPU times (all threads) from process.cpuUsage(), in µs. */
  proc: ProcSample
  /** The window on the monotonic clock in µs, the clock V8's CPU profiles use. */
  start_us: number
  end_us: number
}

const waiting: ((line: string) => void)[] = []
const input = createInterface({ input: process.stdin })
input.on('line', (line) => waiting.shift()?.(line))
// The parent went away: nothing more will come, let the child finish.
input.on('close', () => {
  for (const resolve of waiting.splice(0)) resolve('')
})
const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve))
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

/** Says ready, waits for the parent's go and opens the window; `end(n)` closes it and waits for stop. */
export async function openWindow(): Promise<{ end(n: number): Promise<void> }> {
  console.log(JSON.stringify({ ready: true }))
  await nextLine()
  const cpu = process.cpuUsage()
  const proc = sampleProc('self')
  const started = performance.now()
  const startUs = monotonicUs()
  return {
    async end(n) {
      const used = process.cpuUsage(cpu)
      const result: WindowResult = {
        ms: performance.now() - started,
        n,
        proc: { ...procDelta(proc, sampleProc('self')), userUs: used.user, sysUs: used.system },
        start_us: startUs,
        end_us: monotonicUs(),
      }
      console.log(JSON.stringify(result))
      await nextLine()
      input.close()
    },
  }
}
