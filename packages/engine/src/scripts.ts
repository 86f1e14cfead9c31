import { readFileSync } from 'node:fs'
import { CUE_LIMITS } from '@cuekit/protocol'
import type { Cluster, Redis } from 'ioredis'
import type { Keys, PartitionRef } from './keys.ts'

/** Every Lua script: partition scripts get the ARGV header and helpers; global ones run as is. */
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
  cue_create: 'partition',
  cue_update: 'partition',
  cue_delete: 'partition',
  cue_get: 'partition',
  cue_list: 'partition',
  cue_due: 'partition',
  cue_tick: 'partition',
  cue_fire: 'partition',
  wake_take: 'global',
  wake_put: 'global',
} as const satisfies Record<string, 'partition' | 'global'>

export type ScriptName = keyof typeof SCRIPTS
export type PartitionScript = {
  [K in ScriptName]: (typeof SCRIPTS)[K] extends 'partition' ? K : never
}[ScriptName]
export type GlobalScript = Exclude<ScriptName, PartitionScript>

/** A script reply: nested arrays of strings and integers, first item a code for partition scripts. */
export type Reply = Array<string | number | Reply>

type ScriptArg = string | number

function readLua(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
}

export interface ScriptOptions {
  historyLength: number
  /**
   * The store runs in this process (ioredis-mock), whose TIME command is not a clock: pass
   * this process's clock instead, which is then the store's clock.
   */
  localClock: boolean
  /**
   * The global wake index, when scripts may write it themselves (a single Redis: every key is on
   * one server). On Redis Cluster it lives in another slot, so the engine writes it separately.
   */
  wakeKey: string | null
  /** A stand-in for the store's clock in tests (schedules across DST at chosen instants). */
  clock?: (() => number) | undefined
}

/**
 * Loads the scripts once per client as ioredis custom commands (EVALSHA with a transparent
 * EVAL fallback) and calls them with the right KEYS and ARGV header.
 */
export class ScriptRegistry {
  private readonly commandPrefix = 'cuekit_'

  private readonly localClock: boolean
  private readonly clockFn: (() => number) | undefined

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: Keys,
    options: ScriptOptions,
  ) {
    this.localClock = options.localClock
    this.clockFn = options.clock
    const header = [
      'local P, TENANT, NOTIFY_CH, EVENT_CH, CLOCK = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]',
      `local HISTORY_MAX = ${Math.max(1, Math.floor(options.historyLength))}`,
      `local WAKE_KEY = ${options.wakeKey === null ? 'false' : `'${options.wakeKey}'`}`,
      `local CUE_RECENT_MAX = ${CUE_LIMITS.maxRecentExecutions}`,
      keys.luaKeyPrelude(),
      readLua('_lib'),
    ].join('\n')
    for (const [name, kind] of Object.entries(SCRIPTS)) {
      const body = readLua(name)
      // The script's own doc comment stays first in its file; the prelude is only prepended here.
      const lua = kind === 'partition' ? `${header}\n${body}` : body
      redis.defineCommand(this.commandPrefix + name, { numberOfKeys: kind === 'partition' ? 1 : 2, lua })
    }
  }

  /** Runs a partition script. Returns the reply; the first item is 'ok' or an error code. */
  async partition(name: PartitionScript, ref: PartitionRef, args: ScriptArg[]): Promise<Reply> {
    const argv = [
      this.keys.partition(ref),
      ref.tenantId,
      this.keys.notifyChannel(),
      this.keys.eventChannel(ref.tenantId),
      this.clock(),
      ...args,
    ]
    return this.invoke(name, [this.keys.routingKey(ref)], argv)
  }

  /** The clock argument scripts take: '' (Redis TIME decides) or this process's ms. */
  clock(): string {
    if (this.clockFn) return String(Math.floor(this.clockFn()))
    return this.localClock ? String(Date.now()) : ''
  }

  async global(name: GlobalScript, args: ScriptArg[]): Promise<Reply> {
    return this.invoke(name, [this.keys.wake(), this.keys.wakeBusy()], args)
  }

  private async invoke(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<Reply> {
    const command = (this.redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<Reply>>)[
      this.commandPrefix + name
    ]
    if (!command) throw new Error(`script ${name} is not loaded`)
    return command.call(this.redis, ...keys, ...args)
  }
}
