import {
  AttemptEnd,
  type AttemptRecord,
  type ClaimedExecution,
  type ExecutionOutcome,
  type ExecutionRecord,
  type ExecutionStatus,
  type ExecutionSummary,
  type LeaseRecord,
  LIMITS,
  OutcomeState,
  ReportedWith,
  WEBHOOK_TASK,
  type WorkerRecord,
} from '@cuekit/protocol'
import {
  ATTEMPT,
  type CLAIMED,
  EXECUTION,
  HS,
  type Layout,
  type LEASE,
  RS,
  SEP,
  STATUS_CODES,
} from './layouts/index.ts'
import type { Reply } from './scripts.ts'

// The one module that reads script replies and stored records, by the names in layouts/.

type Item = Reply[number]

function str(v: Item | undefined): string {
  return v === undefined ? '' : String(v)
}

/** A number from a reply item or stored field; '' reads as `fallback`. */
export function int(v: Item | undefined, fallback = 0): number {
  const s = str(v)
  return s === '' ? fallback : Number(s)
}

/** The last day iso() formatted, and its `YYYY-MM-DDT`: most times it formats share a day. */
let isoDay = Number.NaN
let isoDate = ''
/** 9999-12-31T23:59:59.999Z: beyond it toISOString() writes six-digit years. */
const ISO_MAX_MS = 253_402_300_799_999

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)

/**
 * Milliseconds since the epoch as toISOString() writes them. Two per claimed execution: from
 * the cached date and arithmetic for the time of day, a fraction of a Date's cost.
 */
export function iso(ms: number | string): string {
  const t = Number(ms)
  if (!Number.isInteger(t) || t < 0 || t > ISO_MAX_MS) return new Date(t).toISOString()
  const day = Math.floor(t / 86_400_000)
  if (day !== isoDay) {
    isoDay = day
    isoDate = new Date(day * 86_400_000).toISOString().slice(0, 11)
  }
  let rest = t - day * 86_400_000
  const milli = rest % 1000
  rest = (rest - milli) / 1000
  const sec = rest % 60
  rest = (rest - sec) / 60
  const min = rest % 60
  const hour = (rest - min) / 60
  const m = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`
  return `${isoDate}${pad2(hour)}:${pad2(min)}:${pad2(sec)}.${m}Z`
}

export function isoOrNull(ms: string | undefined): string | null {
  return ms === undefined || ms === '' ? null : iso(ms)
}

/** One row of a reply (the head, or an item of a batch) read by its layout's names. */
export class Row<N extends string> {
  constructor(
    private readonly reply: Reply,
    private readonly layout: Layout<N>,
    private readonly base = 0,
  ) {}

  raw(name: N): Item | undefined {
    return this.reply[this.base + this.layout.at[name]]
  }

  str(name: N): string {
    return str(this.raw(name))
  }

  int(name: N, fallback = 0): number {
    return int(this.raw(name), fallback)
  }

  /** A ms field as ISO 8601, null when empty. */
  time(name: N): string | null {
    return isoOrNull(this.str(name))
  }

  /** A nested reply (e.g. a flat hash). */
  list(name: N): Reply {
    const v = this.raw(name)
    return Array.isArray(v) ? v : []
  }
}

/** The head of a reply. */
export function head<N extends string>(reply: Reply, layout: Layout<N>): Row<N> {
  return new Row(reply, layout)
}

/** `count` items of `layout` following a head of `after` items. */
export function rows<N extends string>(
  reply: Reply,
  after: Layout<string>,
  layout: Layout<N>,
  count: number,
): Row<N>[] {
  const start = after.size
  return Array.from({ length: count }, (_, k) => new Row(reply, layout, start + k * layout.size))
}

/** `count` items of `layout` packed into the one string after a head of `after` items (packed() in Lua). */
export function packedRows<N extends string>(
  reply: Reply,
  after: Layout<string>,
  layout: Layout<N>,
  count: number,
): Row<N>[] {
  if (count === 0) return []
  const items = str(reply[after.size]).split(SEP)
  return Array.from({ length: count }, (_, k) => new Row(items, layout, k * layout.size))
}

/** Flat [field, value, ...] (HGETALL) into an object. */
export function fieldsOf(flat: Reply | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!Array.isArray(flat)) return out
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

export function parseBackoff(csv: string | undefined, fallback: readonly number[]): number[] {
  return csv ? csv.split(',').map(Number) : [...fallback]
}

// ------------------------------------------------------------------ execution records

type ExecutionField = (typeof EXECUTION.fields)[number]

/** A stored status letter -> the status (STATUS_CODES). */
const STATUS_NAMES = new Map(Object.entries(STATUS_CODES.names).map(([name, code]) => [code, name]))

/** A stored execution record, decoded (see layouts/layout.ts for its shape). */
export class StoredExecution {
  private readonly fields: string[]
  readonly inlinePayload: string
  readonly history: string

  constructor(raw: string) {
    const a = raw.indexOf(RS)
    const b = raw.indexOf(RS, a + 1)
    this.inlinePayload = raw.slice(0, a)
    this.fields = raw.slice(a + 1, b).split(SEP)
    this.history = raw.slice(b + 1)
    const at = EXECUTION.at
    this.fields[at.status] = STATUS_NAMES.get(this.fields[at.status] ?? '') ?? this.fields[at.status] ?? ''
    this.fields[at.created_at] = String(Number.parseInt(this.fields[at.created_at] ?? '0', 36))
  }

  get(name: ExecutionField): string {
    return this.fields[EXECUTION.at[name]] ?? ''
  }

  int(name: ExecutionField, fallback = 0): number {
    return int(this.get(name), fallback)
  }

  time(name: ExecutionField): string | null {
    return isoOrNull(this.get(name))
  }
}

export interface RecordParts {
  id: string
  record: string
  /** The payload when kept outside the record ('' otherwise). */
  payload: string
  /** The outcome JSON ('' for none). */
  outcome: string
}

/** An execution as the API's summary (no history). */
export function toSummary(
  parts: RecordParts,
  now: number,
  defaultBackoff: readonly number[],
): ExecutionSummary {
  return summaryOf(new StoredExecution(parts.record), parts, now, defaultBackoff)
}

function summaryOf(
  r: StoredExecution,
  parts: RecordParts,
  now: number,
  defaultBackoff: readonly number[],
): ExecutionSummary {
  const id = parts.id
  const status = r.get('status') as ExecutionStatus
  const created = r.get('created_at')
  const payload = r.get('payload_external') === '1' ? parts.payload : r.inlinePayload
  const leased = status === 'delivering' && r.get('expires_at') !== ''
  const rf = r.get('replayed_from')
  const webhook = r.get('task') === WEBHOOK_TASK
  const outcomeState = OutcomeState.safeParse(r.get('outcome_state')).data ?? null
  return {
    execution_id: id,
    id,
    task: r.get('task'),
    payload: payload === '' ? null : JSON.parse(payload),
    status,
    attempt: r.int('attempt'),
    max_attempts: r.int('max_attempts', LIMITS.defaultMaxAttempts),
    priority: r.int('priority'),
    backoff_seconds: parseBackoff(r.get('backoff'), defaultBackoff),
    cue_id: r.get('cue_id') || null,
    cue_name: r.get('cue_name') || null,
    scheduled_for: iso(r.get('scheduled_for') || created || now),
    created_at: iso(created || now),
    updated_at: iso(r.get('updated_at') || created || now),
    finished_at: r.time('finished_at'),
    next_attempt_at: status === 'scheduled' || status === 'retrying' ? r.time('due_at') : null,
    lease: leased
      ? {
          worker_id: r.get('worker_id'),
          epoch: r.int('attempt'),
          claimed_at: iso(r.get('claimed_at') || now),
          expires_at: iso(r.get('expires_at')),
          remaining_ms: r.int('expires_at') - now,
          lease_seconds: r.int('lease_ms') / 1000,
          heartbeats: r.int('heartbeats'),
          last_heartbeat_at: r.time('last_heartbeat_at'),
        }
      : null,
    cancel_requested: r.get('cancel_requested') === '1',
    replayed_from: rf || null,
    triggered_by: (r.get('triggered_by') || (rf ? 'replay' : 'api')) as ExecutionSummary['triggered_by'],
    chain_parent_id: r.get('chain_parent_id') || null,
    chain_depth: r.int('chain_depth'),
    idempotency_key: r.get('idempotency_key') || null,
    error_message: r.get('error_message') || null,
    failure_reason: r.get('failure_reason') || null,
    attempts: r.int('attempt'),
    http_status: r.get('http_status') === '' ? null : r.int('http_status'),
    started_at: webhook ? r.time('started_at') : r.time('claimed_at'),
    delivered_at: r.time('delivered_at'),
    last_attempt_at: r.time('claimed_at'),
    claimed_by_worker: r.get('worker_id') || null,
    claimed_at: r.time('claimed_at'),
    last_heartbeat_at: r.time('last_heartbeat_at'),
    outcome_state: outcomeState,
    outcome: outcomeOf(r, parts.outcome, outcomeState),
  }
}

/** An execution with its attempts, oldest first. */
export function toRecord(
  parts: RecordParts,
  now: number,
  defaultBackoff: readonly number[],
): ExecutionRecord {
  const stored = new StoredExecution(parts.record)
  const summary = summaryOf(stored, parts, now, defaultBackoff)
  const history = stored.history === '' ? [] : stored.history.split(HS).map(toAttempt)
  const latest = latestAttempt(stored)
  if (latest) history.push(latest)
  return { ...summary, history }
}

/**
 * The recorded outcome: its JSON (result, evidence) when the report carried any, else what the
 * record knows (a report without a result is still an outcome). `validation_state` follows the
 * verification: valid once verified, invalid once it failed.
 */
function outcomeOf(r: StoredExecution, json: string, state: OutcomeState | null): ExecutionOutcome | null {
  if (r.get('outcome_at') === '') return null
  const success = r.get('outcome_success') === '1'
  const error = r.get('error_message')
  // recorded_at is the script's time of the report (Redis TIME), whatever the stored JSON says.
  const recorded_at = iso(r.get('outcome_at'))
  const body: ExecutionOutcome =
    json === ''
      ? { success, ...(!success && error ? { error } : {}), recorded_at }
      : { ...(JSON.parse(json) as ExecutionOutcome), recorded_at }
  body.validation_state =
    state === 'verified_success' ? 'valid' : state === 'verification_failed' ? 'invalid' : null
  return body
}

function toAttempt(entry: string): AttemptRecord {
  const e = entry.split(SEP)
  const at = (name: (typeof ATTEMPT.fields)[number]) => e[ATTEMPT.at[name]] ?? ''
  const attempt = int(at('attempt'))
  return {
    attempt,
    epoch: attempt,
    worker_id: at('worker_id'),
    claimed_at: iso(at('claimed_at') || 0),
    ended_at: isoOrNull(at('ended_at')),
    outcome: AttemptEnd.safeParse(at('ended')).data ?? null,
    error: at('error') || null,
    reported_with: ReportedWith.safeParse(at('reported_with')).data ?? null,
  }
}

/**
 * The latest attempt lives in the lease fields while it runs (delivering) and when it ended the
 * execution (`ended`); an attempt after which the execution went back to the queue is in the history.
 */
function latestAttempt(r: StoredExecution): AttemptRecord | null {
  const ended = AttemptEnd.safeParse(r.get('ended')).data ?? null
  if (r.get('claimed_at') === '' || (r.get('status') !== 'delivering' && ended === null)) return null
  return {
    attempt: r.int('attempt'),
    epoch: r.int('attempt'),
    worker_id: r.get('worker_id'),
    claimed_at: iso(r.get('claimed_at')),
    ended_at: ended ? r.time('finished_at') : null,
    outcome: ended,
    error: ended === 'failure' ? r.get('error_message') || null : null,
    reported_with: ended ? (ReportedWith.safeParse(r.get('reported_with')).data ?? null) : null,
  }
}

// ------------------------------------------------------------------ reply items

/** When a claim or claimable item is (or was) due: its scheduled_for (ms), else its creation (base 36, as stored). */
export function dueAt(scheduledFor: string, createdAt: string): string {
  return iso(scheduledFor || Number.parseInt(createdAt, 36))
}

export function toClaimed(row: Row<(typeof CLAIMED.fields)[number]>): ClaimedExecution {
  const id = row.str('id')
  const attempt = row.int('attempt')
  return {
    execution_id: id,
    id,
    task: row.str('task'),
    payload: JSON.parse(row.str('payload')),
    scheduled_for: dueAt(row.str('scheduled_for'), row.str('created_at')),
    attempt,
    max_attempts: row.int('max_attempts'),
    cue_id: row.str('cue_id') || null,
    cue_name: row.str('cue_name') || null,
    lease: {
      token: row.str('token'),
      epoch: attempt,
      expires_at: iso(row.str('expires_at')),
      lease_seconds: row.int('lease_ms') / 1000,
    },
  }
}

export function toLease(row: Row<(typeof LEASE.fields)[number]>, now: number): LeaseRecord {
  const expires = row.int('expires_at')
  return {
    execution_id: row.str('id'),
    task: row.str('task'),
    worker_id: row.str('worker_id'),
    attempt: row.int('attempt'),
    epoch: row.int('attempt'),
    claimed_at: iso(row.str('claimed_at')),
    expires_at: iso(expires),
    remaining_ms: expires - now,
    lease_seconds: row.int('lease_ms') / 1000,
    heartbeats: row.int('heartbeats'),
    last_heartbeat_at: row.time('last_heartbeat_at'),
    cancel_requested: row.str('cancel_requested') === '1',
  }
}

/**
 * A worker's liveness from its last sign of life and the last time a lease of it expired
 * unreported: `lost` while it has shown no sign of life since (a crashed or stuck worker), until
 * it has been silent long enough to be `dead`.
 */
export function workerState(lastSeenMs: number, lostAtMs: number, now: number): WorkerRecord['state'] {
  const age = (now - lastSeenMs) / 1000
  if (age >= LIMITS.workerStaleSeconds) return 'dead'
  if (lostAtMs > 0 && lostAtMs >= lastSeenMs) return 'lost'
  return age < LIMITS.workerActiveSeconds ? 'active' : 'stale'
}
