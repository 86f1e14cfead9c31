import { EventEmitter } from 'node:events'
import { LIMITS } from '@cuekit/protocol'
import type { Cluster, Redis } from 'ioredis'
import { check } from './errors.ts'
import { partitionOf } from './ids.ts'
import { Keys, type PartitionRef, STORAGE_FORMAT } from './keys.ts'
import { HEAD } from './layouts/index.ts'
import { type PartitionScript, type Reply, type ScriptArg, ScriptRegistry } from './scripts.ts'

/** A tenant as the engine needs it: its id and how many partitions its data is spread over. */
export interface TenantRef {
  id: string
  partitions: number
}

export interface EngineOptions {
  redis: Redis | Cluster
  /** Key prefix; lets several deployments (or test runs) share one Redis. Default `ck`. */
  prefix?: string
  defaultLeaseSeconds?: number
  defaultBackoffSeconds?: readonly number[]
  /** How long terminal executions are kept. Default 7 days. */
  retentionSeconds?: number
  /** Payloads up to this many bytes stay inside the execution record. Default 4096. */
  inlinePayloadBytes?: number
  historyLength?: number
  /**
   * Use this process's clock instead of Redis TIME. Only for the in-memory store (detected
   * automatically for ioredis-mock), which lives in this process and whose TIME is broken.
   */
  localClock?: boolean
  /**
   * Tests only: a stand-in for the store's clock (every script's and the scheduler's "now"), to
   * run schedules across chosen instants such as a DST change.
   */
  clock?: () => number
  /** Lease of a webhook execution beyond its cue's timeout. Default 10 s. */
  webhookLeaseMarginSeconds?: number
  /** How late a cue's tick may fire and still count as on time, not missed. Default 60 s. */
  missedTickGraceMs?: number
  /** This server can send mail (CUEKIT_SMTP_URL): a cue's on_failure.email queues one. */
  emailEnabled?: boolean
}

type CoreEvents = {
  /** A partition's new due time (Redis ms): maintenance may arm a local timer for it. */
  due: [at: number]
}

/**
 * What every part of the engine shares: the store, its keys and scripts, the store's clock, the
 * tenant's partitions, and the due times scripts create. Transitions (executions.ts), reads
 * (reads.ts), cues (cues.ts) and maintenance (maintenance.ts) each take one.
 */
export class EngineCore extends EventEmitter<CoreEvents> {
  readonly redis: Redis | Cluster
  readonly keys: Keys
  readonly scripts: ScriptRegistry
  readonly defaultLeaseSeconds: number
  readonly defaultBackoff: readonly number[]
  readonly retentionSeconds: number
  readonly inlinePayloadBytes: number
  /** Redis clock minus local clock (ms), from the last script that reported Redis time. */
  clockOffsetMs = 0
  private readonly clock: (() => number) | undefined
  /** Scripts write the due index themselves (a single Redis, not a cluster). */
  private readonly dueInScripts: boolean

  constructor(options: EngineOptions) {
    super()
    this.redis = options.redis
    this.keys = new Keys(options.prefix ?? 'ck')
    this.dueInScripts = (options.redis as { isCluster?: boolean }).isCluster !== true
    this.defaultLeaseSeconds = options.defaultLeaseSeconds ?? LIMITS.defaultLeaseSeconds
    this.defaultBackoff = options.defaultBackoffSeconds ?? LIMITS.defaultBackoffSeconds
    this.retentionSeconds = options.retentionSeconds ?? LIMITS.retentionSeconds
    this.inlinePayloadBytes = options.inlinePayloadBytes ?? 4096
    this.clock = options.clock
    this.scripts = new ScriptRegistry(this.redis, this.keys, {
      historyLength: options.historyLength ?? LIMITS.attemptHistoryLength,
      localClock: options.localClock ?? /RedisMock/.test(this.redis.constructor.name),
      dueKey: this.dueInScripts ? this.keys.due() : null,
      clock: options.clock,
      emailEnabled: options.emailEnabled,
      inlinePayloadBytes: this.inlinePayloadBytes,
    })
  }

  /** The store's clock now: Redis time as last seen (or the test clock). For schedules, never leases. */
  storeNow(): number {
    return this.clock ? this.clock() : this.redisNow()
  }

  /** Redis time now, estimated from the last offset seen (for timers, never for leases). */
  redisNow(): number {
    return Date.now() + this.clockOffsetMs
  }

  sawNow(now: number): void {
    this.clockOffsetMs = now - Date.now()
  }

  ref(tenant: TenantRef, partition: number): PartitionRef {
    return { tenantId: tenant.id, partition }
  }

  /** The partition an execution id lives in. */
  refOf(tenant: TenantRef, executionId: string): PartitionRef {
    return this.ref(tenant, partitionOf(executionId, tenant.partitions))
  }

  partitions(tenant: TenantRef): PartitionRef[] {
    return Array.from({ length: tenant.partitions }, (_, p) => this.ref(tenant, p))
  }

  /**
   * Makes sure the data under this prefix is in the format these scripts read (STORAGE_FORMAT),
   * marking an empty store as such. Data of another format is refused with what to do about it,
   * never read wrongly.
   */
  async checkStorage(): Promise<void> {
    const key = this.keys.format()
    const found = await this.redis.get(key)
    if (found === STORAGE_FORMAT) return
    if (found === null && (await this.redis.scard(this.keys.tenants())) === 0) {
      await this.redis.set(key, STORAGE_FORMAT, 'NX')
      return this.checkStorage()
    }
    throw new StorageFormatError(found ?? '1')
  }

  /**
   * Runs a partition script: an error code in its reply is thrown (EngineError) and the store's
   * clock is noted from its `now`.
   */
  async run(name: PartitionScript, ref: PartitionRef, argv: ScriptArg[]): Promise<Reply> {
    const reply = await this.scripts.partition(name, ref, argv)
    check(reply)
    this.sawNow(Number(reply[HEAD.at.now]))
    return reply
  }

  /**
   * A due time a partition script just created (its reply's `next_due`, '' for none). On a single
   * Redis the script already wrote it to the due index; on a cluster it is written here, without
   * waiting (one lost with a crashed process is recovered by the maintenance sweep). This
   * process's maintenance may arm its timer at once.
   */
  due(ref: PartitionRef, at: string | number): void {
    if (at === '') return
    const ms = Number(at)
    this.emit('due', ms)
    if (this.dueInScripts) return
    this.putDue([{ ref, next: ms }], false).catch(() => {})
  }

  /** Records due times in the due index, keeping the earliest (and frees partitions a pass took). */
  async putDue(entries: { ref: PartitionRef; next: number | null }[], taken: boolean): Promise<void> {
    if (entries.length === 0) return
    await this.scripts.global('due_put', [
      taken ? '1' : '0',
      ...entries.flatMap((e) => [this.keys.partitionName(e.ref), e.next === null ? '' : String(e.next)]),
    ])
  }
}

/** The store holds Cuekit data of another storage format than this engine's. */
export class StorageFormatError extends Error {
  override readonly name = 'StorageFormatError'
  constructor(readonly found: string) {
    super(
      `the data under this key prefix is in storage format ${found}; this Cuekit reads format ` +
        `${STORAGE_FORMAT}. Drain the old deployment (let its executions finish) and start this one ` +
        'with another CUEKIT_KEY_PREFIX, or on an empty Redis.',
    )
  }
}
