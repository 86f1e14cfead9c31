import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import {
  ALERT_TASK,
  CUE_LIMITS,
  EMAIL_TASK,
  LIMITS,
  NOTIFY_TASK,
  OUTCOME_LIMITS,
  WEBHOOK_TASK,
} from '@cuekit/protocol'
import type { Cluster, Redis } from 'ioredis'
import type { Keys, PartitionRef } from './keys.ts'
import { EXECUTION, HASH_FIELDS, LAYOUTS, type Layout, luaHashFields, luaLayout } from './layouts/index.ts'

/** Every Lua script: partition scripts get the header, keys and library; global ones do not. */
const SCRIPTS = {
  enqueue: 'partition',
  claim: 'partition',
  claim_id: 'partition',
  extend: 'partition',
  complete: 'partition',
  fail: 'partition',
  release: 'partition',
  reap: 'partition',
  promote: 'partition',
  purge: 'partition',
  cancel: 'partition',
  replay: 'partition',
  get: 'partition',
  list: 'partition',
  leases: 'partition',
  queues: 'partition',
  workers: 'partition',
  worker_beat: 'partition',
  worker_delete: 'partition',
  claimable: 'partition',
  rates: 'partition',
  outcome: 'partition',
  evidence: 'partition',
  verify: 'partition',
  verification_pending: 'partition',
  live_claim: 'partition',
  deadlines: 'partition',
  alerts: 'partition',
  alert: 'partition',
  alert_ack: 'partition',
  cue_stats: 'partition',
  usage: 'partition',
  cue_create: 'partition',
  cue_update: 'partition',
  cue_delete: 'partition',
  cue_get: 'partition',
  cue_list: 'partition',
  cue_due: 'partition',
  cue_tick: 'partition',
  cue_fire: 'partition',
  due_take: 'global',
  due_put: 'global',
} as const satisfies Record<string, 'partition' | 'global'>

export type ScriptName = keyof typeof SCRIPTS
export type PartitionScript = {
  [K in ScriptName]: (typeof SCRIPTS)[K] extends 'partition' ? K : never
}[ScriptName]
export type GlobalScript = Exclude<ScriptName, PartitionScript>

/** A script reply: nested arrays of strings and integers, first item a code for partition scripts. */
export type Reply = Array<string | number | Reply>

export type ScriptArg = string | number

const lua = (path: string) => readFileSync(new URL(`./lua/${path}`, import.meta.url), 'utf8')

/** The shared library, in file order (lua/lib/<n>-<name>.lua: later files use earlier ones). */
const LIBRARY = readdirSync(new URL('./lua/lib/', import.meta.url))
  .filter((f) => f.endsWith('.lua'))
  .sort()
  .map((f) => lua(`lib/${f}`))
  .join('\n')

/** A top-level statement of the prelude or library, and the locals it defines. */
interface Piece {
  code: string
  defines: string[]
}

// `local function f`, `local a, b = …`, `local a` (declared here, assigned below) or `a = function`.
const DEFINITION =
  /^(?:local\s+function\s+([A-Za-z_]\w*)|local\s+([A-Za-z_][\w, ]*?)\s*(?:=|$)|([A-Za-z_]\w*)\s*=\s*function\b)/
const NAME = /[A-Za-z_]\w*/g

/**
 * Splits Lua source into its top-level statements: a piece starts at a column-0 definition and
 * runs to the next (a `for` that fills a table, and the comments before the next definition, stay
 * with the piece above). Lines before the first definition form a piece that defines nothing.
 */
function split(code: string): Piece[] {
  const pieces: Piece[] = [{ code: '', defines: [] }]
  for (const line of code.split('\n')) {
    const m = DEFINITION.exec(line)
    if (m) {
      const names = (m[1] ?? m[2] ?? m[3])!.split(',').map((n) => n.trim())
      pieces.push({ code: line, defines: names })
    } else {
      const last = pieces[pieces.length - 1]!
      last.code = last.code === '' ? line : `${last.code}\n${line}`
    }
  }
  return pieces
}

/**
 * The pieces `body` needs, in their order: the ones defining a name it uses, and theirs in turn.
 * A script is one chunk whose prelude and library run on every call (each `local function` is a
 * new closure each time), so a 45 KB library costs every call tens of µs whatever the script
 * does; a script that reads one hash field should not pay for the outcome state machine. Names are
 * matched as plain words, comments included: a false match only keeps a piece, never drops one.
 */
function needed(pieces: Piece[], body: string): string {
  const definers = new Map<string, Piece[]>()
  for (const piece of pieces) {
    for (const name of piece.defines) definers.set(name, [...(definers.get(name) ?? []), piece])
  }
  const kept = new Set<Piece>(pieces.filter((p) => p.defines.length === 0))
  const seen = new Set<string>()
  const queue = [body, ...[...kept].map((p) => p.code)]
  while (queue.length > 0) {
    for (const [name] of queue.pop()!.matchAll(NAME)) {
      if (seen.has(name)) continue
      seen.add(name)
      for (const piece of definers.get(name) ?? []) {
        if (kept.has(piece)) continue
        kept.add(piece)
        queue.push(piece.code)
      }
    }
  }
  return pieces
    .filter((p) => kept.has(p))
    .map((p) => p.code)
    .join('\n')
}

/**
 * The layouts and hash-field tables a piece of Lua names (a chunk may hold only 200 locals): a
 * field read (`X.status`, `X[...]`) or the table itself passed on (`f(out, CUE_DAY, CDF)`).
 */
function tablesFor(code: string): string {
  const named = (name: string) => new RegExp(`\\b${name}\\b(?=[.[),])`).test(code)
  return [
    ...LAYOUTS.filter((l: Layout<string>) => named(l.lua)).map(luaLayout),
    ...HASH_FIELDS.filter((h) => named(h.lua)).map(luaHashFields),
  ].join('\n')
}

/**
 * Builds `layout` as an argument list: the values by field name, in the layout's order. Batch
 * items (a layout with offset 0) are flattened after their script's arguments by the caller.
 */
export function args<N extends string>(
  layout: Layout<N>,
  values: { readonly [K in N]: ScriptArg },
): ScriptArg[] {
  return layout.fields.map((f) => values[f])
}

/** A global script (no partition header or library) with the layouts it names. */
export function globalScript(name: string): LuaScript {
  const body = lua(`${name}.lua`)
  return new LuaScript(`${tablesFor(body)}\n${body}`)
}

/**
 * One Lua script, run by its SHA (EVALSHA) with the source sent once when a server does not know it
 * yet (NOSCRIPT, e.g. after a restart or on a new cluster node). Plain commands, not ioredis custom
 * commands: every auto-pipeline ioredis builds copies each custom command onto itself, and script
 * calls are the hot path.
 */
export class LuaScript {
  readonly sha: string

  constructor(readonly code: string) {
    this.sha = createHash('sha1').update(code).digest('hex')
  }

  async run(redis: Redis | Cluster, keys: string[], argv: ScriptArg[]): Promise<Reply> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...argv)) as Reply
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return (await redis.eval(this.code, keys.length, ...keys, ...argv)) as Reply
    }
  }
}

export interface ScriptOptions {
  historyLength: number
  /**
   * The store runs in this process (ioredis-mock), whose TIME command is not a clock: pass
   * this process's clock instead, which is then the store's clock.
   */
  localClock: boolean
  /**
   * The global due index, when scripts may write it themselves (a single Redis: every key is on
   * one server). On Redis Cluster it lives in another slot, so the engine writes it separately.
   */
  dueKey: string | null
  /** A stand-in for the store's clock in tests (schedules across DST at chosen instants). */
  clock?: (() => number) | undefined
  /** A server with a mail transport: a cue's on_failure.email queues a mail. */
  emailEnabled?: boolean | undefined
  inlinePayloadBytes: number
}

/** The engine's scripts, called with the right KEYS and ARGV header. */
export class ScriptRegistry {
  private readonly scripts = new Map<ScriptName, LuaScript>()
  private readonly localClock: boolean
  private readonly clockFn: (() => number) | undefined

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: Keys,
    options: ScriptOptions,
  ) {
    this.localClock = options.localClock
    this.clockFn = options.clock
    // ARGV[1..HEADER_ARGS] (layouts/layout.ts): what partition() passes before a script's own arguments.
    const header = [
      'local P, TENANT, NOTIFY_CH, EVENT_CH, CLOCK = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]',
      `local HISTORY_MAX = ${Math.max(1, Math.floor(options.historyLength))}`,
      `local DUE_KEY = ${options.dueKey === null ? 'false' : `'${options.dueKey}'`}`,
      `local CUE_RECENT_MAX = ${CUE_LIMITS.maxRecentExecutions}`,
      `local DEFAULT_MAX_ATTEMPTS = ${LIMITS.defaultMaxAttempts}`,
      // The partition number, from P (`<prefix>:{<tenant>.<partition>}:`): ids scripts make carry it.
      "local PARTITION = string.match(P, '%.(%d+)}:$')",
      `local WEBHOOK_TASK, ALERT_TASK, NOTIFY_TASK, EMAIL_TASK = '${WEBHOOK_TASK}', '${ALERT_TASK}', '${NOTIFY_TASK}', '${EMAIL_TASK}'`,
      `local EMAIL_ENABLED = ${options.emailEnabled ? 'true' : 'false'}`,
      `local ALERT_DEDUP_MS = ${OUTCOME_LIMITS.alertDedupSeconds * 1000}`,
      `local DEFAULT_ALERT_THRESHOLD = ${OUTCOME_LIMITS.defaultConsecutiveFailures}`,
      `local DEFAULT_OUTCOME_DEADLINE_S = ${CUE_LIMITS.defaultOutcomeDeadlineSeconds}`,
      `local MAX_CHAIN_DEPTH = ${OUTCOME_LIMITS.maxChainDepth}`,
      // Payloads up to this many bytes stay in the execution record; longer ones go to PL.
      `local INLINE_MAX = ${options.inlinePayloadBytes}`,
      `local FMT = '${options.localClock ? '%.0f' : '%d'}'`,
      // A record table: EXECUTION's fields, then its payload and history, all '' (lib/2-record.lua).
      // A constructor allocates the whole array part at once; filling it field by field rehashes.
      `local REC_PAYLOAD, REC_HISTORY = ${EXECUTION.size + 1}, ${EXECUTION.size + 2}`,
      `local function rec_blank() return { ${Array.from({ length: EXECUTION.size + 2 }, () => "''").join(', ')} } end`,
    ]
    const prelude = split([...header, keys.luaKeyPrelude(), LIBRARY].join('\n'))
    for (const [name, kind] of Object.entries(SCRIPTS)) {
      const body = lua(`${name}.lua`)
      if (kind === 'global') {
        this.scripts.set(name as ScriptName, globalScript(name))
        continue
      }
      // The script's own doc comment stays first in its file; the prelude is only prepended here.
      const code = needed(prelude, body)
      this.scripts.set(name as ScriptName, new LuaScript(`${tablesFor(code + body)}\n${code}\n${body}`))
    }
  }

  /** Every script's source as sent to Redis, by name: a test compiles them all. */
  sources(): [ScriptName, string][] {
    return [...this.scripts].map(([name, script]) => [name, script.code])
  }

  /** Runs a partition script. Returns the reply; the first item is 'ok' or an error code. */
  async partition(name: PartitionScript, ref: PartitionRef, argv: ScriptArg[]): Promise<Reply> {
    // HEADER_ARGS positions, as the Lua header above reads them.
    const header = [
      this.keys.partition(ref),
      ref.tenantId,
      this.keys.notifyChannel(),
      this.keys.eventChannel(ref.tenantId),
      this.clock(),
    ]
    return this.invoke(name, [this.keys.routingKey(ref)], [...header, ...argv])
  }

  /** The clock argument scripts take: '' (Redis TIME decides) or this process's ms. */
  clock(): string {
    if (this.clockFn) return String(Math.floor(this.clockFn()))
    return this.localClock ? String(Date.now()) : ''
  }

  async global(name: GlobalScript, argv: ScriptArg[]): Promise<Reply> {
    return this.invoke(name, [this.keys.due(), this.keys.dueBusy()], argv)
  }

  private invoke(name: ScriptName, keys: string[], argv: ScriptArg[]): Promise<Reply> {
    const script = this.scripts.get(name)
    if (!script) throw new Error(`script ${name} is not loaded`)
    return script.run(this.redis, keys, argv)
  }
}
