/**
 * The one module that names Redis keys. TypeScript builds keys with the functions below; the
 * Lua scripts get the same layout through `luaKeyPrelude()`, generated from the same table, so
 * a key's shape is written down exactly once.
 *
 * Layout (P = `<prefix>:{<tenant>.<partition>}:`; the braces are the Redis Cluster hash tag, so
 * every key of one tenant partition lives in one slot and every script touches one slot):
 *
 *   P e:<id>          hash    the execution (fields: see the top of lua/_lib.lua)
 *   P p:<id>          string  payload JSON when too long to keep inline in the hash
 *   P o:<id>          string  outcome evidence JSON (result, metadata, ...)
 *   P h:<id>          list    attempt history, one SEP-joined entry per claim, oldest first
 *   P pq:<task>       zset    exactly the task's pending executions, score = rank·2^40 + seq
 *                             (rank: priority, best first; seq: FIFO order across tasks)
 *   P ready           zset    tasks with pending work, score = the best score of the task's queue
 *   P sched           zset    scheduled and retrying executions by due time (ms)
 *   P leases          zset    delivering executions by lease expiry (ms)
 *   P done            zset    terminal executions by finish time (ms), for retention
 *   P log             list    execution ids in creation order (listing); P logbase counts trimmed
 *   P seq             string  queue sequence counter (FIFO order across tasks and priorities)
 *   P counts          hash    `<task>SEP<status>` -> number of executions
 *   P i:<key>         string  idempotency key -> execution id (24 h)
 *   P w:<worker>      hash    worker stats in this partition (seen, claimed, in flight, ...)
 *   P workers         zset    workers by last sign of life (ms)
 *   P evsub           string  present while some server streams this tenant's events
 *
 * Cues live in partition 0 of their tenant, with the executions they fire, so one script can
 * check a tick, create its execution and advance the cue:
 *
 *   P c:<cue>         hash    the cue (fields: see the header of cue_create.lua)
 *   P cnames          hash    cue name -> cue id (names are unique per tenant)
 *   P cues            zset    cue ids by creation time (ms), for listing
 *   P cdue            zset    active cues by next fire time (ms): the scheduler reads only the due
 *   P cx:<cue>        list    the cue's most recent execution ids, newest first (bounded)
 *
 * Global keys (`<prefix>:{g}:...`, one slot): the maintenance wake index, tenant records (a
 * tenant's hash also holds its webhook signing secret) and the set of tenants with webhook cues.
 */

export const SEP = '\x1f'

/** Suffixes of the per-partition keys. Changing one is a data migration. */
const PARTITION_KEYS = {
  execution: 'e:',
  payload: 'p:',
  outcome: 'o:',
  history: 'h:',
  // `pq:` since the queues became sorted sets; `q:` and `t:` held the earlier list layout.
  queue: 'pq:',
  ready: 'ready',
  sched: 'sched',
  leases: 'leases',
  done: 'done',
  log: 'log',
  logBase: 'logbase',
  seq: 'seq',
  counts: 'counts',
  idempotency: 'i:',
  worker: 'w:',
  workers: 'workers',
  eventSubscribers: 'evsub',
  cue: 'c:',
  cueNames: 'cnames',
  cues: 'cues',
  cueDue: 'cdue',
  cueRecent: 'cx:',
} as const

export interface PartitionRef {
  tenantId: string
  partition: number
}

export class Keys {
  constructor(readonly prefix = 'ck') {}

  /** The common prefix of one partition's keys, hash tag included. */
  partition(ref: PartitionRef): string {
    return `${this.prefix}:{${ref.tenantId}.${ref.partition}}:`
  }

  /** A name for a partition in the global wake index: `<tenant>.<partition>`. */
  partitionName(ref: PartitionRef): string {
    return `${ref.tenantId}.${ref.partition}`
  }

  parsePartitionName(name: string): PartitionRef {
    const dot = name.lastIndexOf('.')
    return { tenantId: name.slice(0, dot), partition: Number(name.slice(dot + 1)) }
  }

  /** A key inside the partition's slot that scripts declare as KEYS[1] for cluster routing. */
  routingKey(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.seq
  }

  execution(ref: PartitionRef, id: string): string {
    return this.partition(ref) + PARTITION_KEYS.execution + id
  }

  payload(ref: PartitionRef, id: string): string {
    return this.partition(ref) + PARTITION_KEYS.payload + id
  }

  history(ref: PartitionRef, id: string): string {
    return this.partition(ref) + PARTITION_KEYS.history + id
  }

  counts(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.counts
  }

  eventSubscribers(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.eventSubscribers
  }

  /** Channel carrying "executions became claimable" for every tenant (waiters listen here). */
  notifyChannel(): string {
    return `${this.prefix}:notify`
  }

  /** Channel carrying one tenant's execution events (SSE). */
  eventChannel(tenantId: string): string {
    return `${this.prefix}:events:${tenantId}`
  }

  private global(): string {
    return `${this.prefix}:{g}:`
  }

  /** zset partition name -> next time it needs maintenance (ms). */
  wake(): string {
    return `${this.global()}wake`
  }

  /** zset partition name -> when a maintenance pass that took it gives up (ms). */
  wakeBusy(): string {
    return `${this.global()}wakebusy`
  }

  tenant(tenantId: string): string {
    return `${this.global()}tenant:${tenantId}`
  }

  tenants(): string {
    return `${this.global()}tenants`
  }

  apiKey(sha256Hex: string): string {
    return `${this.global()}key:${sha256Hex}`
  }

  email(email: string): string {
    return `${this.global()}email:${email}`
  }

  /** set of tenant ids that have (or had) a webhook cue: where the dispatcher looks on its timer. */
  webhookTenants(): string {
    return `${this.global()}whtenants`
  }

  /** Lua functions that build the partition keys from `P`, the partition prefix (ARGV[1]). */
  luaKeyPrelude(): string {
    const k = PARTITION_KEYS
    return [
      `local K_EXEC, K_PAYLOAD, K_OUTCOME, K_HISTORY = '${k.execution}', '${k.payload}', '${k.outcome}', '${k.history}'`,
      `local function k_exec(id) return P .. K_EXEC .. id end`,
      `local function k_payload(id) return P .. K_PAYLOAD .. id end`,
      `local function k_outcome(id) return P .. K_OUTCOME .. id end`,
      `local function k_history(id) return P .. K_HISTORY .. id end`,
      `local function k_queue(task) return P .. '${k.queue}' .. task end`,
      `local function k_idem(key) return P .. '${k.idempotency}' .. key end`,
      `local function k_worker(w) return P .. '${k.worker}' .. w end`,
      `local K_READY, K_SCHED, K_LEASES, K_DONE = P .. '${k.ready}', P .. '${k.sched}', P .. '${k.leases}', P .. '${k.done}'`,
      `local K_LOG, K_LOGBASE, K_SEQ, K_COUNTS = P .. '${k.log}', P .. '${k.logBase}', P .. '${k.seq}', P .. '${k.counts}'`,
      `local K_WORKERS, K_EVSUB = P .. '${k.workers}', P .. '${k.eventSubscribers}'`,
      `local function k_cue(id) return P .. '${k.cue}' .. id end`,
      `local function k_cue_recent(id) return P .. '${k.cueRecent}' .. id end`,
      `local K_CUE_NAMES, K_CUES, K_CUE_DUE = P .. '${k.cueNames}', P .. '${k.cues}', P .. '${k.cueDue}'`,
    ].join('\n')
  }
}
