/**
 * The one module that names Redis keys. TypeScript builds keys with the functions below; the
 * Lua scripts get the same layout through `luaKeyPrelude()`, generated from the same table, so
 * a key's shape is written down exactly once.
 *
 * Layout (P = `<prefix>:{<tenant>.<partition>}:`; the braces are the Redis Cluster hash tag, so
 * every key of one tenant partition lives in one slot and every script touches one slot):
 *
 *   P E               hash    execution id -> its record (layout: EXECUTION in layouts/records.ts)
 *   P PL              hash    execution id -> payload JSON, when too long to keep in the record
 *   P O               hash    execution id -> outcome JSON (result, error, metadata, evidence)
 *   P dl              zset    executions by outcome deadline (ms): delivered without an outcome,
 *                             or a cue's execution not yet claimed; and `w:<cue>` by the end of
 *                             a recurring cue's missed window (deadlines.lua)
 *   P AL              hash    alert id -> the alert (layout: ALERT); P alerts zset by creation
 *                             (ms); P alseq the alert id counter; P ad:<type>:<subject> string
 *                             while an alert of that type and subject suppresses repeats (5 min)
 *   P idseq           string  counter for ids of executions a script creates (see ids.ts)
 *   P ahook           string  present while the tenant has an alert webhook (alerts are sent)
 *   P day:<day>       hash    activity of one UTC day (DAY_FIELDS), kept 40 days: usage
 *   P cday:<cue>:<day> hash   a cue's executions of one UTC day (CUE_DAY_FIELDS), kept 8 days
 *   P cdur:<cue>      list    the cue's recent execution durations (ms), newest first (bounded)
 *   P pq:<task>       zset    exactly the task's pending executions, score = rank·2^40 + seq
 *                             (rank: priority, best first; seq: FIFO order across tasks)
 *   P ready           zset    tasks with pending work, score = the best score of the task's queue
 *   P sched           zset    scheduled and retrying executions by due time (ms)
 *   P leases          zset    delivering executions by lease expiry (ms)
 *   P done            zset    terminal executions by finish time (ms), for retention
 *   P log             list    execution ids in creation order (listing); P logbase counts trimmed
 *   P seq             string  queue sequence counter (FIFO order across tasks and priorities)
 *   P counts          hash    `<task>SEP<status>` -> number of executions
 *   P rates:<minute>  hash    activity in one minute (RATE_FIELDS in layouts/records.ts), kept a day
 *   P i:<key>         string  idempotency key -> `<execution id>SEP<request fingerprint>` (24 h)
 *   P w:<worker>      hash    worker stats in this partition (WORKER_FIELDS in layouts/records.ts)
 *   P workers         zset    workers by last sign of life (ms)
 *   P evsub           string  present while some server streams this tenant's events
 *
 * Cues live in partition 0 of their tenant, with the executions they fire, so one script can
 * check a tick, create its execution and advance the cue:
 *
 *   P c:<cue>         hash    the cue (CUE_FIELDS in layouts/records.ts)
 *   P cnames          hash    cue name -> cue id (names are unique per tenant)
 *   P cues            zset    cue ids by creation time (ms), for listing
 *   P cdue            zset    active cues by next fire time (ms): the scheduler reads only the due
 *   P cx:<cue>        list    the cue's most recent execution ids, newest first (bounded)
 *
 * Global keys (`<prefix>:{g}:...`, one slot): the due index (when each partition next needs
 * maintenance), tenant records (a tenant's hash also holds its webhook signing secret), API key
 * and email lookups, the set of tenants with webhook cues, and the storage format version.
 */

/** The format of the data this engine writes; EngineCore.checkStorage refuses any other. */
export const STORAGE_FORMAT = '2'

/** How long per-minute activity is kept: a day, and an hour to spare. */
export const RATES_TTL_SECONDS = 25 * 3600

/** Suffixes of the per-partition keys. Changing one is a data migration. */
const PARTITION_KEYS = {
  executions: 'E',
  payloads: 'PL',
  outcomes: 'O',
  deadlines: 'dl',
  alerts: 'AL',
  alertIndex: 'alerts',
  alertSeq: 'alseq',
  alertDedup: 'ad:',
  idSeq: 'idseq',
  alertHook: 'ahook',
  day: 'day:',
  cueDay: 'cday:',
  cueDurations: 'cdur:',
  queue: 'pq:',
  ready: 'ready',
  sched: 'sched',
  leases: 'leases',
  done: 'done',
  log: 'log',
  logBase: 'logbase',
  seq: 'seq',
  counts: 'counts',
  rates: 'rates:',
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

  executions(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.executions
  }

  /** Recorded outcomes: execution id -> the outcome JSON as reported. */
  outcomes(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.outcomes
  }

  counts(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.counts
  }

  /** Present while the tenant has an alert webhook: scripts then queue alert deliveries. */
  alertHook(ref: PartitionRef): string {
    return this.partition(ref) + PARTITION_KEYS.alertHook
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

  /** zset partition name -> when it next needs maintenance (ms): the due index. */
  due(): string {
    return `${this.global()}due`
  }

  /** zset partition name -> when a maintenance pass that took it gives up (ms). */
  dueBusy(): string {
    return `${this.global()}duebusy`
  }

  /** The lock one server holds while it sweeps every partition (see maintenance.ts). */
  sweepLock(): string {
    return `${this.global()}sweep`
  }

  /** The storage format of the data under this prefix (STORAGE_FORMAT). */
  format(): string {
    return `${this.global()}format`
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

  /** Lua keys and key builders of a partition, from `P`, the partition prefix (ARGV[1]). */
  luaKeyPrelude(): string {
    const k = PARTITION_KEYS
    return [
      `local K_E, K_PL, K_O = P .. '${k.executions}', P .. '${k.payloads}', P .. '${k.outcomes}'`,
      `local K_DEADLINES, K_IDSEQ, K_AHOOK = P .. '${k.deadlines}', P .. '${k.idSeq}', P .. '${k.alertHook}'`,
      `local K_ALERTS, K_ALERT_INDEX, K_ALERT_SEQ = P .. '${k.alerts}', P .. '${k.alertIndex}', P .. '${k.alertSeq}'`,
      `local function k_alert_dedup(type, subject) return P .. '${k.alertDedup}' .. type .. ':' .. subject end`,
      `local function k_day(day) return P .. '${k.day}' .. string.format('%.0f', day) end`,
      `local function k_cue_day(cue, day) return P .. '${k.cueDay}' .. cue .. ':' .. string.format('%.0f', day) end`,
      `local function k_cue_durations(cue) return P .. '${k.cueDurations}' .. cue end`,
      `local function k_queue(task) return P .. '${k.queue}' .. task end`,
      `local function k_rates(minute) return P .. '${k.rates}' .. string.format('%.0f', minute) end`,
      `local RATES_TTL = ${RATES_TTL_SECONDS}`,
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
