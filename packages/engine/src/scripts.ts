import { readFileSync } from 'node:fs'
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
}

/**
 * Loads the scripts once per client as ioredis custom commands (EVALSHA with a transparent
 * EVAL fallback) and calls them with the right KEYS and ARGV header.
 */
export class ScriptRegistry {
  private readonly commandPrefix = 'cuekit_'

  private readonly localClock: boolean

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: Keys,
    options: ScriptOptions,
  ) {
    this.localClock = options.localClock
    const header = [
      'local P, TENANT, NOTIFY_CH, EVENT_CH, CLOCK = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]',
      `local HISTORY_MAX = ${Math.max(1, Math.floor(options.historyLength))}`,
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
