import { type CatchUpPolicy, CUE_LIMITS } from '@cuekit/protocol'
import { Cron } from 'croner'
import { EngineError } from './errors.ts'

/** A cue's schedule as stored: `cron` for recurring cues, `at` (ISO) for one-time cues. */
export interface ScheduleSpec {
  type: 'recurring' | 'once'
  cron?: string | null | undefined
  at?: string | null | undefined
  timezone: string
}

/**
 * How late a tick may be handled and still count as on time. Later ticks are "missed" (the
 * scheduler was down) and follow the cue's catch-up policy; a merely busy scheduler catches up
 * every tick within this window.
 */
export const DEFAULT_MISSED_GRACE_MS = 60_000

/** The most ticks one plan fires (on-time ones plus replayed ones). */
const MAX_TICKS_PER_PLAN = 1000

const cache = new Map<string, Cron>()

export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    throw new EngineError(
      'invalid_timezone',
      `Unknown timezone '${timezone}': use an IANA name such as America/New_York.`,
    )
  }
}

/** A compiled cron expression in its zone; five fields, or six with seconds first. */
export function compileCron(expression: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expression}`
  const hit = cache.get(key)
  if (hit) return hit
  checkTimezone(timezone)
  let cron: Cron
  try {
    cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' })
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error)
    throw new EngineError('invalid_schedule', `Invalid cron expression '${expression}': ${reason}`)
  }
  if (cron.nextRun(new Date()) === null) {
    throw new EngineError('invalid_schedule', `The cron expression '${expression}' never fires.`)
  }
  // Bounded: a long-lived server sees at most its tenants' distinct expressions.
  if (cache.size >= 1000) cache.clear()
  cache.set(key, cron)
  return cron
}

/** The first tick strictly after `afterMs`, or null when there is none. */
export function nextTick(expression: string, timezone: string, afterMs: number): number | null {
  return compileCron(expression, timezone).nextRun(new Date(afterMs))?.getTime() ?? null
}

/**
 * Validates a schedule and returns its first fire time after `nowMs` (create, resume and schedule
 * edits). A one-time cue's `at` must lie in the future.
 */
export function firstFire(spec: ScheduleSpec, nowMs: number): number {
  checkTimezone(spec.timezone)
  if (spec.type === 'recurring') {
    if (!spec.cron) throw new EngineError('invalid_schedule', 'A recurring schedule needs `cron`.')
    if (spec.at) throw new EngineError('invalid_schedule', 'A recurring schedule takes `cron`, not `at`.')
    const next = nextTick(spec.cron, spec.timezone, nowMs)
    if (next === null)
      throw new EngineError('invalid_schedule', `The cron expression '${spec.cron}' never fires.`)
    return next
  }
  if (!spec.at) throw new EngineError('invalid_schedule', 'A one-time schedule needs `at`.')
  if (spec.cron) throw new EngineError('invalid_schedule', 'A one-time schedule takes `at`, not `cron`.')
  const at = Date.parse(spec.at)
  if (Number.isNaN(at)) throw new EngineError('invalid_schedule', `Invalid time '${spec.at}'.`)
  if (at <= nowMs) throw new EngineError('invalid_schedule', '`at` must be in the future.')
  return at
}

export interface TickPlan {
  /** Ticks to fire now, ascending. */
  ticks: number[]
  /** The cue's next fire time after now, or null when it has no further tick. */
  next: number | null
}

/**
 * Which ticks of a due cue to fire at `nowMs`. Ticks from `nextRunMs` up to now that are at most
 * `graceMs` late all fire; older ones were missed and follow the policy: `skip_missed` fires none,
 * `run_once_if_missed` the latest one, `replay_all_missed` each of them (the latest 100).
 */
export function planTicks(
  spec: ScheduleSpec,
  policy: CatchUpPolicy,
  nextRunMs: number,
  nowMs: number,
  graceMs: number = DEFAULT_MISSED_GRACE_MS,
): TickPlan {
  const onTimeFrom = nowMs - graceMs
  if (spec.type === 'once') {
    const missed = nextRunMs < onTimeFrom
    return { ticks: missed && policy === 'skip_missed' ? [] : [nextRunMs], next: null }
  }
  const cron = compileCron(spec.cron ?? '', spec.timezone)
  const ticks: number[] = []
  if (nextRunMs < onTimeFrom && policy !== 'skip_missed') {
    const count = policy === 'replay_all_missed' ? CUE_LIMITS.maxReplayedTicks : 1
    const missed = cron
      .previousRuns(count, new Date(onTimeFrom))
      .map((d) => d.getTime())
      .filter((t) => t >= nextRunMs)
    ticks.push(...missed.reverse())
  }
  let t: number | null =
    nextRunMs >= onTimeFrom ? nextRunMs : (cron.nextRun(new Date(onTimeFrom - 1))?.getTime() ?? null)
  while (t !== null && t <= nowMs && ticks.length < MAX_TICKS_PER_PLAN) {
    ticks.push(t)
    t = cron.nextRun(new Date(t))?.getTime() ?? null
  }
  return { ticks, next: cron.nextRun(new Date(nowMs))?.getTime() ?? null }
}
