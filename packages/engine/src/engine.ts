import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type {
  ClaimableResponse,
  ClaimedExecution,
  EnqueueRequest,
  ExecutionRecord,
  ExecutionStatus,
  ExecutionSummary,
  HeartbeatResponse,
  LeaseRecord,
  ListExecutionsResponse,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  OutcomeEvidence,
  OutcomeResponse,
  QueueCounts,
  TransitionResponse,
  WorkerRecord,
} from '@cuekit/protocol'
import { AttemptEnd, type ErrorCode, LIMITS, pythonJsonDumps, ReportedWith, TaskName } from '@cuekit/protocol'
import type { Cluster, Redis } from 'ioredis'
import { Cues } from './cues.ts'
import {
  fieldsOf,
  int,
  iso,
  isoOrNull,
  toAttempt,
  toClaimed,
  toLease,
  toSummary,
  workerState,
} from './decode.ts'
import { asCode, check, EngineError } from './errors.ts'
import { newExecutionId, newExecutionIdIn, newTokenBase, partitionOf } from './ids.ts'
import { Keys, type PartitionRef, SEP } from './keys.ts'
import { type Reply, ScriptRegistry } from './scripts.ts'

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
  /** Payloads up to this many bytes stay inside the execution hash. Default 48. */
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
}

/** An enqueue request as the engine takes it: the API's fields plus the cue it fired from. */
/** The engine still derives a missing task (`payload.task`, else `default`); the API requires one. */
export type EnqueueItem = Omit<EnqueueRequest, 'task'> & { task?: string; cue_id?: string; cue_name?: string }

export interface EnqueueResult {
  execution_id: string
  created: boolean
  status: ExecutionStatus
  /** The task it was queued under (explicit, else payload.task, else `default`). */
  task: string
}

export interface ClaimOptions {
  worker_id: string
  task?: string | string[] | undefined
  max?: number
  lease_seconds?: number | undefined
}

export interface LeaseAuth {
  lease_token?: string | undefined
  worker_id?: string | undefined
}

export interface ReportInput extends LeaseAuth {
  success: boolean
  error?: string | null | undefined
  retry?: boolean | undefined
  retry_after_seconds?: number | undefined
  evidence?: Omit<OutcomeEvidence, 'success' | 'recorded_at'> | undefined
}

export interface ListQuery {
  status?: ExecutionStatus | undefined
  status__in?: ExecutionStatus[] | undefined
  task?: string | undefined
  cue_id?: string | undefined
  worker_id?: string | undefined
  limit?: number | undefined
  cursor?: string | undefined
}

export interface LeaseQuery {
  worker_id?: string | undefined
  task?: string | undefined
  expiring_within_seconds?: number | undefined
  limit?: number | undefined
}

export interface MaintenanceResult {
  /** Executions fired by cues' ticks. */
  fired: number
  requeued: number
  failed: number
  promoted: number
  purged: number
  /** Expired execution ids re-queued or failed by this pass. */
  expired: string[]
  now: number
  /** When this partition next needs maintenance (Redis ms), or null. */
  next: number | null
}

type EngineEvents = {
  /** A new deadline (Redis ms) that maintenance must honour, so a local timer can be armed. */
  deadline: [at: number]
}

const LIST_SCAN = 2000
const LEASE_SCAN = 5000
const MAINTENANCE_BATCH = 1000

/**
 * The lease engine: every state change is one Lua script on one partition (see lua/*.lua).
 * Works unchanged on Redis, Redis Cluster and ioredis-mock.
 */
export class Engine extends EventEmitter<EngineEvents> {
  readonly keys: Keys
  readonly redis: Redis | Cluster
  readonly defaultLeaseSeconds: number
  readonly retentionSeconds: number
  /** @internal The script registry (cues.ts runs its scripts through it). */
  readonly scripts: ScriptRegistry
  private readonly defaultBackoff: readonly number[]
  /** @internal */
  readonly inlinePayloadBytes: number
  /** Cue storage and the scheduler. */
  readonly cues: Cues
  private readonly clock: (() => number) | undefined
  private readonly rotation = new Map<string, number>()
  /** Scripts write the wake index themselves (a single Redis, not a cluster). */
  private readonly wakeInScripts: boolean
  /** Redis clock minus local clock (ms), from the last script that reported Redis time. */
  clockOffsetMs = 0

  constructor(options: EngineOptions) {
    super()
    this.redis = options.redis
    this.keys = new Keys(options.prefix ?? 'ck')
    this.wakeInScripts = (options.redis as { isCluster?: boolean }).isCluster !== true
    this.defaultLeaseSeconds = options.defaultLeaseSeconds ?? LIMITS.defaultLeaseSeconds
    this.defaultBackoff = options.defaultBackoffSeconds ?? LIMITS.defaultBackoffSeconds
    this.retentionSeconds = options.retentionSeconds ?? LIMITS.retentionSeconds
    this.inlinePayloadBytes = options.inlinePayloadBytes ?? 48
    this.scripts = new ScriptRegistry(this.redis, this.keys, {
      historyLength: options.historyLength ?? LIMITS.attemptHistoryLength,
      localClock: options.localClock ?? /RedisMock/.test(this.redis.constructor.name),
      wakeKey: this.wakeInScripts ? this.keys.wake() : null,
      clock: options.clock,
    })
    this.clock = options.clock
    this.cues = new Cues(this, {
      webhookLeaseMarginSeconds: options.webhookLeaseMarginSeconds,
      missedGraceMs: options.missedTickGraceMs,
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

  private ref(tenant: TenantRef, partition: number): PartitionRef {
    return { tenantId: tenant.id, partition }
  }

  private refOf(tenant: TenantRef, executionId: string): PartitionRef {
    return this.ref(tenant, partitionOf(executionId, tenant.partitions))
  }

  /** @internal */
  sawNow(now: number): void {
    this.clockOffsetMs = now - Date.now()
  }

  /**
   * A deadline a partition script just created. On a single Redis the script already wrote it to
   * the wake index; on a cluster it is written here, without waiting (a hint lost with a crashed
   * process is recovered by the maintenance sweep). This process arms its own timer at once.
   */
  private deadline(ref: PartitionRef, at: number): void {
    this.emit('deadline', at)
    if (this.wakeInScripts) return
    this.scripts.global('wake_put', ['0', this.keys.partitionName(ref), String(at)]).catch(() => {})
  }

  /** Records a deadline in the wake index (keeping the earliest) and tells local listeners. */
  /** @internal */
  async hint(ref: PartitionRef, at: number): Promise<void> {
    await this.scripts.global('wake_put', ['0', this.keys.partitionName(ref), String(at)])
    this.emit('deadline', at)
  }

  // ------------------------------------------------------------------ enqueue

  /** Creates executions; items with a known idempotency key return the first execution. */
  async enqueue(tenant: TenantRef, items: EnqueueItem[]): Promise<EnqueueResult[]> {
    const groups = new Map<number, { index: number; args: string[] }[]>()
    items.forEach((item, index) => {
      let id: string
      if (item.idempotency_key !== undefined && tenant.partitions > 1) {
        // The key and its execution must share a partition so one script can check both.
        id = newExecutionIdIn(partitionOf(item.idempotency_key, tenant.partitions), tenant.partitions)
      } else {
        id = newExecutionId()
      }
      const p = partitionOf(id, tenant.partitions)
      const list = groups.get(p) ?? []
      list.push({ index, args: this.enqueueArgs(id, item) })
      groups.set(p, list)
    })
    const results: EnqueueResult[] = new Array(items.length)
    await Promise.all(
      [...groups].map(async ([p, group]) => {
        const ref = this.ref(tenant, p)
        const reply = await this.scripts.partition('enqueue', ref, [
          group.length,
          this.inlinePayloadBytes,
          LIMITS.idempotencyTtlSeconds,
          ...group.flatMap((g) => g.args),
        ])
        if (reply[0] === 'idempotency_key_reused') {
          throw new EngineError(
            'idempotency_key_reused',
            `Idempotency key "${String(reply[1])}" was already used with a different request; ` +
              'send the same request again to get its execution, or use a new key.',
          )
        }
        check(reply)
        this.sawNow(int(reply[1]))
        group.forEach((g, i) => {
          const at = 3 + i * 3
          results[g.index] = {
            execution_id: String(reply[at]),
            created: reply[at + 1] === '1',
            status: String(reply[at + 2]) as ExecutionStatus,
            task: g.args[1]!,
          }
        })
        if (reply[2] !== '') this.deadline(ref, int(reply[2]))
      }),
    )
    return results
  }

  private enqueueArgs(id: string, item: EnqueueItem): string[] {
    const payload = item.payload === undefined ? {} : item.payload
    const task = item.task ?? taskFromPayload(payload) ?? 'default'
    const at = item.scheduled_for === undefined ? '' : String(Date.parse(item.scheduled_for))
    const delay = item.delay_seconds === undefined ? '' : String(Math.round(item.delay_seconds * 1000))
    return [
      id,
      task,
      JSON.stringify(payload),
      String(item.priority ?? 0),
      String(item.max_attempts ?? LIMITS.defaultMaxAttempts),
      item.backoff_seconds ? item.backoff_seconds.join(',') : '',
      item.lease_seconds === undefined ? '' : String(item.lease_seconds),
      at,
      delay,
      item.idempotency_key ?? '',
      item.cue_id ?? '',
      item.cue_name ?? '',
      '',
      item.idempotency_key === undefined ? '' : fingerprint(item),
    ]
  }

  // ------------------------------------------------------------------ claim

  /**
   * Leases up to `max` executions to one worker. Partitions are visited in turn, starting at a
   * rotating offset so no partition is favoured.
   */
  async claim(tenant: TenantRef, options: ClaimOptions): Promise<ClaimedExecution[]> {
    const max = options.max ?? 1
    // Deduplicated: claim.lua ranks the listed tasks' queues and a repeat would tie with itself.
    const tasks =
      options.task === undefined
        ? []
        : [...new Set(Array.isArray(options.task) ? options.task : [options.task])]
    const leaseMs = options.lease_seconds === undefined ? 0 : options.lease_seconds * 1000
    const start = this.nextRotation(tenant)
    const claimed: ClaimedExecution[] = []
    for (let i = 0; i < tenant.partitions && claimed.length < max; i++) {
      const ref = this.ref(tenant, (start + i) % tenant.partitions)
      const reply = await this.scripts.partition('claim', ref, [
        options.worker_id,
        max - claimed.length,
        leaseMs,
        this.defaultLeaseSeconds * 1000,
        newTokenBase(),
        tasks.length,
        ...tasks,
      ])
      check(reply)
      this.sawNow(int(reply[1]))
      const n = int(reply[2])
      let earliest = Number.POSITIVE_INFINITY
      for (let k = 0; k < n; k++) {
        const item = toClaimed(reply, 3 + k * 12)
        earliest = Math.min(earliest, Date.parse(item.lease.expires_at))
        claimed.push(item)
      }
      if (n > 0) this.deadline(ref, earliest)
    }
    return claimed
  }

  private nextRotation(tenant: TenantRef): number {
    if (tenant.partitions <= 1) return 0
    const n = (this.rotation.get(tenant.id) ?? 0) + 1
    this.rotation.set(tenant.id, n)
    return n % tenant.partitions
  }

  /** CueAPI's claim by ID: leases this execution if it is pending, else `claim_failed`. */
  async claimById(
    tenant: TenantRef,
    executionId: string,
    options: { worker_id: string; lease_seconds?: number | undefined },
  ): Promise<ClaimedExecution> {
    const ref = this.refOf(tenant, executionId)
    const reply = await this.scripts.partition('claim_id', ref, [
      executionId,
      options.worker_id,
      options.lease_seconds === undefined ? 0 : options.lease_seconds * 1000,
      this.defaultLeaseSeconds * 1000,
      `${newTokenBase()}.1`,
    ])
    check(reply)
    this.sawNow(int(reply[1]))
    const item = toClaimed(reply, 3)
    this.deadline(ref, Date.parse(item.lease.expires_at))
    return item
  }

  // ------------------------------------------------------------------ lease transitions

  /** Heartbeat: a valid lease is extended to now + extend_seconds (default: its own length). */
  async extend(
    tenant: TenantRef,
    executionId: string,
    input: LeaseAuth & { extend_seconds?: number | undefined },
  ): Promise<HeartbeatResponse> {
    const reply = await this.scripts.partition('extend', this.refOf(tenant, executionId), [
      executionId,
      input.lease_token ?? '',
      input.worker_id ?? '',
      input.extend_seconds === undefined ? 0 : input.extend_seconds * 1000,
    ])
    check(reply)
    const now = int(reply[1])
    this.sawNow(now)
    const expires = int(reply[2])
    return {
      acknowledged: true,
      execution_id: executionId,
      lease_extended_until: iso(expires),
      lease: {
        worker_id: String(reply[4]),
        epoch: int(reply[3]),
        claimed_at: iso(String(reply[5])),
        expires_at: iso(expires),
        remaining_ms: expires - now,
        lease_seconds: int(reply[6]) / 1000,
        heartbeats: int(reply[7]),
        last_heartbeat_at: isoOrNull(String(reply[8])),
      },
    }
  }

  /** An outcome report: success completes; failure retries or fails (see fail.lua). */
  async report(tenant: TenantRef, executionId: string, input: ReportInput): Promise<OutcomeResponse> {
    const [result] = await this.reportMany(tenant, [{ ...input, execution_id: executionId }])
    if (result && 'error' in result) throw new EngineError(result.error)
    return result as OutcomeResponse
  }

  /**
   * Many outcome reports; each succeeds or fails on its own. Successes of one partition are
   * one script call (a worker's coalesced batch), failures one call each.
   */
  async reportMany(
    tenant: TenantRef,
    items: (ReportInput & { execution_id: string })[],
  ): Promise<(OutcomeResponse | { execution_id: string; error: ErrorCode })[]> {
    const results: (OutcomeResponse | { execution_id: string; error: ErrorCode })[] = new Array(items.length)
    const successes = new Map<number, number[]>()
    const work: Promise<void>[] = []
    items.forEach((item, index) => {
      if (item.success) {
        const p = partitionOf(item.execution_id, tenant.partitions)
        const list = successes.get(p) ?? []
        list.push(index)
        successes.set(p, list)
        return
      }
      const ref = this.refOf(tenant, item.execution_id)
      work.push(
        this.scripts
          .partition('fail', ref, [
            item.execution_id,
            item.lease_token ?? '',
            item.worker_id ?? '',
            item.error ?? '',
            item.retry === false ? '0' : '1',
            item.retry_after_seconds === undefined ? '' : String(Math.round(item.retry_after_seconds * 1000)),
            evidenceJson(item),
            this.defaultBackoff.join(','),
          ])
          .then(async (reply) => {
            const code = String(reply[0])
            if (code !== 'ok') {
              results[index] = { execution_id: item.execution_id, error: asCode(code) }
              return
            }
            results[index] = await this.transitionReply(ref, item.execution_id, reply)
          }),
      )
    })
    for (const [p, indexes] of successes) {
      const ref = this.ref(tenant, p)
      const args: (string | number)[] = [indexes.length]
      for (const i of indexes) {
        const item = items[i]!
        args.push(item.execution_id, item.lease_token ?? '', item.worker_id ?? '', evidenceJson(item))
      }
      work.push(
        this.scripts.partition('complete', ref, args).then((reply) => {
          check(reply)
          this.sawNow(int(reply[1]))
          indexes.forEach((i, k) => {
            const at = 2 + k * 4
            const code = String(reply[at])
            const id = items[i]!.execution_id
            results[i] =
              code === 'ok'
                ? {
                    execution_id: id,
                    status: String(reply[at + 1]) as ExecutionStatus,
                    attempt: int(reply[at + 2]),
                    outcome_recorded: true,
                    next_attempt_at: null,
                  }
                : { execution_id: id, error: asCode(code) }
          })
        }),
      )
    }
    await Promise.all(work)
    return results
  }

  /** Release (nack): back to pending, or scheduled after a delay; the attempt is not consumed. */
  async release(
    tenant: TenantRef,
    executionId: string,
    input: LeaseAuth & { delay_seconds?: number | undefined },
  ): Promise<OutcomeResponse> {
    const ref = this.refOf(tenant, executionId)
    const reply = await this.scripts.partition('release', ref, [
      executionId,
      input.lease_token ?? '',
      input.worker_id ?? '',
      input.delay_seconds ? String(Math.round(input.delay_seconds * 1000)) : '',
    ])
    return this.transitionReply(ref, executionId, reply)
  }

  private async transitionReply(
    ref: PartitionRef,
    executionId: string,
    reply: Reply,
  ): Promise<OutcomeResponse> {
    check(reply)
    this.sawNow(int(reply[4]))
    const next = reply[3] === '' ? null : int(reply[3])
    if (next !== null) this.deadline(ref, next)
    return {
      execution_id: executionId,
      status: String(reply[1]) as ExecutionStatus,
      attempt: int(reply[2]),
      outcome_recorded: true,
      next_attempt_at: next === null ? null : iso(next),
    }
  }

  async cancel(tenant: TenantRef, executionId: string): Promise<TransitionResponse> {
    const reply = await this.scripts.partition('cancel', this.refOf(tenant, executionId), [executionId])
    check(reply)
    return {
      execution_id: executionId,
      status: String(reply[1]) as ExecutionStatus,
      attempt: int(reply[2]),
      cancel_requested: reply[3] === '1',
    }
  }

  /** Runs a terminal execution again as a new execution; returns the new one. */
  async replay(tenant: TenantRef, executionId: string): Promise<ExecutionRecord> {
    const p = partitionOf(executionId, tenant.partitions)
    const newId = newExecutionIdIn(p, tenant.partitions)
    const reply = await this.scripts.partition('replay', this.ref(tenant, p), [
      executionId,
      newId,
      this.inlinePayloadBytes,
    ])
    check(reply)
    return this.get(tenant, newId)
  }

  // ------------------------------------------------------------------ reads

  async get(tenant: TenantRef, executionId: string): Promise<ExecutionRecord> {
    const reply = await this.scripts.partition('get', this.refOf(tenant, executionId), [executionId])
    check(reply)
    const now = int(reply[1])
    const fields = fieldsOf(reply[2] as Reply)
    const summary = toSummary(
      executionId,
      fields,
      String(reply[3]),
      now,
      String(reply[4]),
      this.defaultBackoff,
    )
    const attempts = (reply[5] as Reply).map((e) => toAttempt(String(e)))
    const latest = latestAttempt(fields)
    if (latest) attempts.push(latest)
    return { ...summary, attempts }
  }

  /** @internal */
  summary(id: string, flat: Reply, payload: string, now: number, outcome = ''): ExecutionSummary {
    return toSummary(id, fieldsOf(flat), payload, now, outcome, this.defaultBackoff)
  }

  /** Newest first; the cursor carries one log position per partition. */
  async list(tenant: TenantRef, query: ListQuery): Promise<ListExecutionsResponse> {
    const limit = query.limit ?? 50
    const starts = decodeCursor(query.cursor, tenant.partitions)
    const statuses = query.status__in ?? (query.status ? [query.status] : [])
    type Item = { p: number; pos: number; created: number; summary: ExecutionSummary }
    const items: Item[] = []
    const nextOf: (number | null)[] = starts.slice()
    await Promise.all(
      starts.map(async (start, p) => {
        if (start === null) return
        const reply = await this.scripts.partition('list', this.ref(tenant, p), [
          start < 0 ? '' : String(start),
          limit,
          LIST_SCAN,
          statuses.join(','),
          query.task ?? '',
          query.cue_id ?? '',
          query.worker_id ?? '',
        ])
        check(reply)
        const now = int(reply[1])
        nextOf[p] = reply[2] === '' ? null : int(reply[2])
        const n = int(reply[3])
        for (let k = 0; k < n; k++) {
          const at = 4 + k * 4
          const summary = this.summary(
            String(reply[at + 1]),
            reply[at + 2] as Reply,
            String(reply[at + 3]),
            now,
          )
          items.push({ p, pos: int(reply[at]), created: Date.parse(summary.created_at), summary })
        }
      }),
    )
    items.sort((a, b) => b.created - a.created || b.pos - a.pos)
    const page = items.slice(0, limit)
    // A partition resumes after the last item taken from it, or at its first item not taken.
    const positions = starts.map((start, p) => {
      if (start === null) return null
      const fromP = items.filter((i) => i.p === p)
      const taken = page.filter((i) => i.p === p)
      if (taken.length === fromP.length) return nextOf[p] ?? null
      const last = taken.at(-1)
      return last ? last.pos - 1 : fromP[0]!.pos
    })
    const hasMore = positions.some((pos) => pos !== null)
    return {
      executions: page.map((i) => i.summary),
      next_cursor: hasMore ? encodeCursor(positions) : null,
      has_more: hasMore,
    }
  }

  /** Live leases, earliest expiry first, across the tenant's partitions. */
  async leases(tenant: TenantRef, query: LeaseQuery): Promise<ListLeasesResponse> {
    const limit = query.limit ?? 100
    let now = 0
    const all: LeaseRecord[] = []
    await Promise.all(
      this.partitions(tenant).map(async (ref) => {
        const reply = await this.scripts.partition('leases', ref, [
          limit,
          query.worker_id ?? '',
          query.task ?? '',
          query.expiring_within_seconds === undefined
            ? ''
            : String(Math.round(query.expiring_within_seconds * 1000)),
          LEASE_SCAN,
        ])
        check(reply)
        const t = int(reply[1])
        now = Math.max(now, t)
        const n = int(reply[2])
        for (let k = 0; k < n; k++) all.push(toLease(reply, 3 + k * 11, t))
      }),
    )
    all.sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at))
    return { leases: all.slice(0, limit), server_time: iso(now || this.redisNow()) }
  }

  /** Per task: counts by status and the age of the oldest pending execution. */
  async queues(tenant: TenantRef): Promise<ListQueuesResponse> {
    const byTask = new Map<string, QueueCounts & { since: number | null }>()
    let now = 0
    const row = (task: string) => {
      let q = byTask.get(task)
      if (!q) {
        q = {
          task,
          pending: 0,
          scheduled: 0,
          delivering: 0,
          retrying: 0,
          success: 0,
          failed: 0,
          cancelled: 0,
          oldest_pending_age_ms: null,
          since: null,
        }
        byTask.set(task, q)
      }
      return q
    }
    await Promise.all(
      this.partitions(tenant).map(async (ref) => {
        const reply = await this.scripts.partition('queues', ref, [])
        check(reply)
        now = Math.max(now, int(reply[1]))
        const counts = reply[2] as Reply
        for (let i = 0; i + 1 < counts.length; i += 2) {
          const [task, status] = String(counts[i]).split(SEP) as [string, keyof QueueCounts]
          const q = row(task)
          if (status in q && typeof q[status] === 'number') (q[status] as number) += int(counts[i + 1])
        }
        const oldest = reply[3] as Reply
        for (let i = 0; i + 1 < oldest.length; i += 2) {
          const q = row(String(oldest[i]))
          const since = int(oldest[i + 1])
          q.since = q.since === null ? since : Math.min(q.since, since)
        }
      }),
    )
    const queues = [...byTask.values()]
      .map(({ since, ...q }) => ({
        ...q,
        oldest_pending_age_ms: since === null ? null : Math.max(0, now - since),
      }))
      .filter((q) => Object.values(q).some((v) => typeof v === 'number' && v > 0))
      .sort((a, b) => a.task.localeCompare(b.task))
    return { queues }
  }

  /** Pending executions, informational (nothing is leased). */
  async claimable(
    tenant: TenantRef,
    task?: string,
    limit: number = LIMITS.maxClaimableListing,
  ): Promise<ClaimableResponse> {
    const executions: ClaimableResponse['executions'] = []
    for (const ref of this.partitions(tenant)) {
      if (executions.length >= limit) break
      const reply = await this.scripts.partition('claimable', ref, [
        limit - executions.length,
        task === undefined ? 0 : 1,
        ...(task === undefined ? [] : [task]),
      ])
      check(reply)
      const n = int(reply[2])
      for (let k = 0; k < n; k++) {
        const at = 3 + k * 7
        executions.push({
          execution_id: String(reply[at]),
          task: String(reply[at + 1]),
          payload: JSON.parse(String(reply[at + 2])),
          scheduled_for: iso(String(reply[at + 3])),
          attempt: int(reply[at + 4]),
          cue_id: String(reply[at + 5]) || null,
          cue_name: String(reply[at + 6]) || null,
        })
      }
    }
    return { executions }
  }

  // ------------------------------------------------------------------ workers

  /** A worker's own heartbeat; recorded in partition 0, where its handlers live. */
  async workerHeartbeat(tenant: TenantRef, workerId: string, handlers?: string[]): Promise<string> {
    const reply = await this.scripts.partition('worker_beat', this.ref(tenant, 0), [
      workerId,
      handlers === undefined ? '' : JSON.stringify(handlers),
    ])
    check(reply)
    return iso(int(reply[1]))
  }

  async workers(tenant: TenantRef, limit = 1000): Promise<ListWorkersResponse> {
    const merged = new Map<string, WorkerRecord & { seen: number }>()
    let now = 0
    await Promise.all(
      this.partitions(tenant).map(async (ref) => {
        const reply = await this.scripts.partition('workers', ref, [limit])
        check(reply)
        now = Math.max(now, int(reply[1]))
        const n = int(reply[2])
        for (let k = 0; k < n; k++) {
          const id = String(reply[3 + k * 3])
          const seen = int(reply[4 + k * 3])
          const h = fieldsOf(reply[5 + k * 3] as Reply)
          const w = merged.get(id) ?? {
            worker_id: id,
            handlers: [],
            last_seen_at: '',
            state: 'dead' as const,
            in_flight: 0,
            claimed: 0,
            completed: 0,
            failed: 0,
            heartbeat_status: 'dead' as const,
            last_heartbeat: '',
            seconds_since_heartbeat: 0,
            seen: 0,
          }
          w.seen = Math.max(w.seen, seen)
          if (h.hd) w.handlers = JSON.parse(h.hd) as string[]
          // Counters only ever grow (one HINCRBY each); what is in flight is what has not ended.
          w.in_flight += Math.max(0, int(h.cl) - int(h.co) - int(h.fa) - int(h.rl) - int(h.cn))
          w.claimed += int(h.cl)
          w.completed += int(h.co)
          w.failed += int(h.fa)
          merged.set(id, w)
        }
      }),
    )
    const workers = [...merged.values()]
      .sort((a, b) => b.seen - a.seen)
      .map(({ seen, ...w }) => {
        const state = workerState(seen, now)
        return {
          ...w,
          last_seen_at: iso(seen),
          state,
          heartbeat_status: state,
          last_heartbeat: iso(seen),
          seconds_since_heartbeat: Math.max(0, Math.floor((now - seen) / 1000)),
        }
      })
    return { workers }
  }

  /** Forgets a worker everywhere; false when it was unknown. */
  async deleteWorker(tenant: TenantRef, workerId: string): Promise<boolean> {
    const replies = await Promise.all(
      this.partitions(tenant).map((ref) => this.scripts.partition('worker_delete', ref, [workerId])),
    )
    return replies.some((r) => int(r[1]) === 1)
  }

  // ------------------------------------------------------------------ events

  /** Marks the tenant's partitions so scripts publish execution events for `ttlSeconds`. */
  async streamEvents(tenant: TenantRef, ttlSeconds: number): Promise<void> {
    await Promise.all(
      this.partitions(tenant).map((ref) =>
        this.redis.set(this.keys.eventSubscribers(ref), '1', 'EX', ttlSeconds),
      ),
    )
  }

  // ------------------------------------------------------------------ maintenance

  /** One maintenance pass over a partition: fire due cues, promote due, reap expired, purge old. */
  async maintainPartition(ref: PartitionRef, batch = MAINTENANCE_BATCH): Promise<MaintenanceResult> {
    const [promoted, reaped, purged, scheduled] = await Promise.all([
      this.scripts.partition('promote', ref, [batch]),
      this.scripts.partition('reap', ref, [batch]),
      this.scripts.partition('purge', ref, [batch, this.retentionSeconds * 1000]),
      this.cues.schedule(ref),
    ])
    check(promoted)
    check(reaped)
    check(purged)
    const now = int(reaped[1])
    this.sawNow(now)
    const nexts = [promoted[3], reaped[4], purged[3]].filter((v) => v !== '').map((v) => int(v))
    if (scheduled.next !== null) nexts.push(scheduled.next)
    // A full batch means more is due right now.
    if (int(promoted[2]) >= batch || int(reaped[2]) + int(reaped[3]) >= batch || int(purged[2]) >= batch) {
      nexts.push(now)
    }
    return {
      fired: scheduled.fired,
      promoted: int(promoted[2]),
      requeued: int(reaped[2]),
      failed: int(reaped[3]),
      purged: int(purged[2]),
      expired: reaped.slice(5).map(String),
      now,
      next: nexts.length ? Math.min(...nexts) : null,
    }
  }

  /** Takes the partitions due for maintenance (marking them busy for `busyMs`). */
  async takeDue(
    limit: number,
    busyMs: number,
  ): Promise<{ now: number; next: number | null; due: { ref: PartitionRef; dueAt: number }[] }> {
    const reply = await this.scripts.global('wake_take', [limit, busyMs, this.scripts.clock()])
    const now = int(reply[0])
    this.sawNow(now)
    const due: { ref: PartitionRef; dueAt: number }[] = []
    for (let i = 2; i + 1 < reply.length; i += 2) {
      due.push({ ref: this.keys.parsePartitionName(String(reply[i])), dueAt: int(reply[i + 1]) })
    }
    return { now, next: reply[1] === '' ? null : int(reply[1]), due }
  }

  /** Puts partitions back into the wake index after a pass (or records deadlines found by a sweep). */
  async putWake(entries: { ref: PartitionRef; next: number | null }[], taken: boolean): Promise<void> {
    if (entries.length === 0) return
    await this.scripts.global('wake_put', [
      taken ? '1' : '0',
      ...entries.flatMap((e) => [this.keys.partitionName(e.ref), e.next === null ? '' : String(e.next)]),
    ])
  }

  partitions(tenant: TenantRef): PartitionRef[] {
    return Array.from({ length: tenant.partitions }, (_, p) => this.ref(tenant, p))
  }
}

/**
 * The latest attempt lives in the lease fields (see _lib.lua) unless it was written to the
 * history when the execution went back to the queue (`hp`, its epoch).
 */
function latestAttempt(h: Record<string, string>): ExecutionRecord['attempts'][number] | null {
  if (!h.ca || int(h.ep) <= int(h.hp)) return null
  const how = AttemptEnd.safeParse(h.ho)
  const ended = how.success
  return {
    attempt: int(h.a),
    epoch: int(h.ep),
    worker_id: h.w ?? '',
    claimed_at: iso(h.ca),
    ended_at: ended ? isoOrNull(h.f) : null,
    outcome: ended ? how.data : null,
    error: ended && how.data === 'failure' ? (h.le ?? null) : null,
    reported_with: ended ? (ReportedWith.safeParse(h.rw).data ?? null) : null,
  }
}

/**
 * What makes two requests under one idempotency key "the same request" (IETF Idempotency-Key
 * draft, Stripe): every field as sent but the key, keys sorted, hashed.
 */
function fingerprint(item: EnqueueItem): string {
  const { idempotency_key: _, ...request } = item
  return createHash('sha256').update(pythonJsonDumps(request)).digest('base64url').slice(0, 22)
}

function taskFromPayload(payload: unknown): string | undefined {
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const task = TaskName.safeParse((payload as Record<string, unknown>).task)
    if (task.success) return task.data
  }
  return undefined
}

function evidenceJson(input: ReportInput): string {
  const e = input.evidence
  if (!e) return ''
  const present = Object.entries(e).filter(([, v]) => v !== undefined && v !== null)
  if (present.length === 0) return ''
  return JSON.stringify({
    success: input.success,
    ...Object.fromEntries(present),
    recorded_at: new Date().toISOString(),
  })
}

function encodeCursor(positions: (number | null)[]): string {
  return positions.map((p) => (p === null ? 'x' : String(p))).join('.')
}

/** `-1` means "start from the newest"; null means "this partition is exhausted". */
function decodeCursor(cursor: string | undefined, partitions: number): (number | null)[] {
  if (cursor === undefined) return Array.from({ length: partitions }, () => -1)
  const parts = cursor.split('.')
  if (parts.length !== partitions || !parts.every((p) => p === 'x' || /^\d{1,15}$/.test(p))) {
    throw new EngineError('invalid_cursor')
  }
  return parts.map((p) => (p === 'x' ? null : Number(p)))
}
