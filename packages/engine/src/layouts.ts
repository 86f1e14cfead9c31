/**
 * Every positional layout shared by TypeScript and the Lua scripts, written once: the fields of
 * an execution record, of an attempt in its history, and of each script's reply. The scripts get
 * the same tables through `luaLayouts()` (`X.status` is the Lua index of `EXECUTION.at.status`
 * plus one), so no number that names a position is written anywhere else.
 *
 * An execution is one value in its partition's `E` hash (see keys.ts):
 *
 *   <payload JSON> RS <fields, SEP-joined, trailing empty ones dropped> RS <history>
 *
 * An empty field reads as its default (documented per field below). The payload comes first so a
 * record is split with two searches; it is '' when the payload is kept in the `PL` hash instead
 * (`payload_external`). The history holds the attempts that ended with the execution going back
 * to the queue, oldest first, HS-joined, each one an ATTEMPT layout SEP-joined. The latest attempt
 * lives in the lease fields: running (status delivering) or the one that ended the execution
 * (`ended` set). JSON text never contains these control characters; free text (errors, worker ids)
 * has them replaced before it is stored.
 */

export const SEP = '\x1f'
/** Separates the payload, the fields and the history of a record. */
export const RS = '\x1e'
/** Separates the attempts of a record's history. */
export const HS = '\x1d'

export interface Layout<N extends string> {
  /** The Lua table's name. */
  readonly lua: string
  readonly fields: readonly N[]
  /** 0-based positions, for TypeScript arrays (after `offset`). */
  readonly at: { readonly [K in N]: number }
  readonly size: number
  /** Positions taken before the first field (script arguments follow the partition header). */
  readonly offset: number
}

export function layout<const N extends string>(lua: string, fields: readonly N[], offset = 0): Layout<N> {
  const at = Object.fromEntries(fields.map((f, i) => [f, offset + i])) as { [K in N]: number }
  return { lua, fields, at, size: fields.length, offset }
}

/**
 * The fields of an execution record, most often present first (a fresh pending execution stores
 * only the first few: trailing empty fields are not written).
 */
export const EXECUTION = layout('X', [
  /** scheduled, pending, delivering, retrying, success, failed, cancelled (stored as STATUS_CODES) */
  'status',
  'task',
  /** ms in base 36 (8 characters, not 13: a record's bytes are most of an execution's memory) */
  'created_at',
  /** ms, '' = created_at */
  'updated_at',
  /** '' = the default (LIMITS.defaultMaxAttempts) */
  'max_attempts',
  /** '' = 0 */
  'priority',
  /** ms, '' = created_at */
  'scheduled_for',
  /** '1': the payload lives in the PL hash */
  'payload_external',
  'cue_id',
  'cue_name',
  /** scheduled, manual_fire, replay, chain; '' = enqueued through the API */
  'triggered_by',
  'idempotency_key',
  /** seconds csv, '' = the engine's default */
  'backoff',
  /** the execution's own lease length in seconds, '' = the claim's or the engine's default */
  'lease_seconds',
  'replayed_from',
  /** the claim number, '' = 0; also the lease's fencing epoch */
  'attempt',
  /** ms: when a scheduled or retrying execution becomes pending */
  'due_at',
  /** ms */
  'finished_at',
  // The latest lease. Kept when it ends: only status `delivering` makes it a lease.
  'lease_token',
  /** the last worker that claimed it */
  'worker_id',
  'claimed_at',
  'expires_at',
  'lease_ms',
  'heartbeats',
  'last_heartbeat_at',
  /** '1' when a cancel was requested while delivering */
  'cancel_requested',
  /** attempts released (not counted against max_attempts) */
  'released',
  'error_message',
  'failure_reason',
  /** the token of the last report, answered again when the same lease repeats it */
  'report_token',
  /** the last report: kind (s success, f failure, r release), ':', status, ':', attempt */
  'report',
  /** how the latest attempt ended when that ended the execution (an AttemptEnd) */
  'ended',
  /** how the latest attempt's report was authorised (lease_token, worker_id, api_key) */
  'reported_with',
  // The outcome (docs/outcomes.md); its body (result, evidence) is in the O hash.
  /** an OutcomeState, '' before any */
  'outcome_state',
  /** '1' / '0': the recorded outcome's success */
  'outcome_success',
  /** ms: when the outcome was recorded */
  'outcome_at',
  /** the fingerprint of an outcome reported without a lease (write-once: the same one repeats) */
  'outcome_fp',
  /** +1 per change of the outcome or its evidence (a PATCH applies only to what it read) */
  'outcome_version',
  /** ms: when an outcome is due (delivered without one, or a cue's execution still unclaimed) */
  'deadline_at',
  /** the last webhook delivery's HTTP status */
  'http_status',
  /** ms: the first claim */
  'started_at',
  /** ms: the 2xx answer of a webhook; a worker's success report */
  'delivered_at',
  'chain_parent_id',
  /** '' = 0 */
  'chain_depth',
])

/** One attempt of a record's history. */
export const ATTEMPT = layout('A', [
  'attempt',
  'worker_id',
  'claimed_at',
  'ended_at',
  /** an AttemptEnd */
  'ended',
  'error',
  'reported_with',
])

/**
 * Every partition script's reply starts with `code` ('ok' or an error code) and `now` (store ms).
 * `next_due`, where a reply has it, is the earliest deadline the script created (ms or ''): when
 * the partition next needs maintenance.
 */
export const HEAD = layout('HEAD', ['code', 'now'])

function reply<const N extends string>(lua: string, fields: readonly N[]): Layout<'code' | 'now' | N> {
  return layout(lua, [...HEAD.fields, ...fields] as const)
}

/** A reply that is an error: the code, then what the error names (e.g. the reused key). */
export const ERROR_REPLY = layout('ERROR_REPLY', ['code', 'detail'])

export const ENQUEUE_REPLY = reply('ENQUEUE_REPLY', ['next_due'])
/** One enqueued item (after ENQUEUE_REPLY): created is '1', or '0' for a repeated idempotency key. */
export const ENQUEUED = layout('ENQUEUED', ['id', 'created', 'status'])

export const CLAIM_REPLY = reply('CLAIM_REPLY', ['count', 'next_due'])
/** A leased execution (after CLAIM_REPLY, `count` times). */
export const CLAIMED = layout('CLAIMED', [
  'id',
  'task',
  'payload',
  'scheduled_for',
  'attempt',
  'max_attempts',
  'expires_at',
  'lease_ms',
  'token',
  'cue_id',
  'cue_name',
])

/** complete, fail and release take a batch: one REPORTED per item after REPORT_REPLY. */
export const REPORT_REPLY = reply('REPORT_REPLY', ['next_due'])
/** code: 'ok' or the item's error code; next_at: when a retrying/scheduled one is due (ms or ''). */
export const REPORTED = layout('REPORTED', ['code', 'status', 'attempt', 'next_at', 'outcome_state'])

export const EXTEND_REPLY = reply('EXTEND_REPLY', [
  'expires_at',
  'worker_id',
  'claimed_at',
  'lease_ms',
  'heartbeats',
  'last_heartbeat_at',
  'attempt',
])

export const CANCEL_REPLY = reply('CANCEL_REPLY', ['status', 'attempt', 'cancel_requested'])

export const REPLAY_REPLY = reply('REPLAY_REPLY', ['id', 'status', 'next_due'])

/** record: the raw record; payload: the external payload ('' when inline); outcome: JSON or ''. */
export const GET_REPLY = reply('GET_REPLY', ['record', 'payload', 'outcome'])

/**
 * next: the position to resume scanning at ('' when the log is exhausted); matched: matches seen
 * by this call (skipped, returned and counted); then `count` LISTED items.
 */
export const LIST_REPLY = reply('LIST_REPLY', ['next', 'matched', 'count'])
export const LISTED = layout('LISTED', ['position', 'id', 'record', 'payload', 'outcome'])

export const LEASES_REPLY = reply('LEASES_REPLY', ['count'])
export const LEASE = layout('LEASE', [
  'id',
  'task',
  'worker_id',
  'attempt',
  'claimed_at',
  'expires_at',
  'lease_ms',
  'heartbeats',
  'last_heartbeat_at',
  'cancel_requested',
])

/** counts: the flat counts hash (`task SEP status` -> n); oldest: flat task, pending-since ms. */
export const QUEUES_REPLY = reply('QUEUES_REPLY', ['counts', 'oldest'])

export const CLAIMABLE_REPLY = reply('CLAIMABLE_REPLY', ['count'])
export const CLAIMABLE = layout('CLAIMABLE', [
  'id',
  'task',
  'payload',
  'scheduled_for',
  'attempt',
  'cue_id',
  'cue_name',
])

export const WORKERS_REPLY = reply('WORKERS_REPLY', ['count'])
/** fields: the worker's flat stats hash (see the WORKER layout of its fields in _lib). */
export const WORKER_ITEM = layout('WORKER_ITEM', ['id', 'seen', 'fields'])

export const WORKER_DELETE_REPLY = reply('WORKER_DELETE_REPLY', ['existed'])

/** reap: then the ids it re-queued or ended. */
export const REAP_REPLY = reply('REAP_REPLY', ['requeued', 'failed', 'next_due'])
export const PROMOTE_REPLY = reply('PROMOTE_REPLY', ['promoted', 'next_due'])
export const PURGE_REPLY = reply('PURGE_REPLY', ['purged', 'next_due'])

/** Scripts that answer only the head. */
export const OK_REPLY = reply('OK_REPLY', [])
export const CUE_CREATE_REPLY = reply('CUE_CREATE_REPLY', ['next_due'])
export const CUE_UPDATE_REPLY = reply('CUE_UPDATE_REPLY', ['version', 'next_due'])
/** cue: the flat cue hash; then `count` LISTED executions of it, newest first. */
export const CUE_GET_REPLY = reply('CUE_GET_REPLY', ['cue', 'total', 'count'])
export const CUE_LIST_REPLY = reply('CUE_LIST_REPLY', ['total', 'count'])
export const CUE_ITEM = layout('CUE_ITEM', ['id', 'cue'])
export const CUE_DUE_REPLY = reply('CUE_DUE_REPLY', ['next_due', 'count'])
export const DUE_CUE = layout('DUE_CUE', ['id', 'version', 'next_run', 'last_fired', 'config', 'partitions'])
export const CUE_TICK_REPLY = reply('CUE_TICK_REPLY', ['fired', 'next_run', 'status', 'next_due'])
export const CUE_FIRE_REPLY = reply('CUE_FIRE_REPLY', ['id', 'created', 'next_due'])

// ------------------------------------------------------------------ pub/sub messages
// SEP-joined; decoded only by events.ts.

/** On the notify channel: executions became claimable. Then pairs: task, how many. */
export const NOTIFY_MESSAGE = layout('NOTIFY_MESSAGE', ['tenant_id', 'total'])

/** On a tenant's event channel: an execution changed status. */
export const EVENT = layout('EVENT', ['id', 'task', 'status', 'attempt', 'worker_id', 'at'])

// ------------------------------------------------------------------ script arguments
// A partition script's ARGV starts with the partition header (scripts.ts: prefix, tenant, notify
// channel, event channel, clock); its own arguments follow, in these layouts. Lua reads them as
// `ARGV[CLAIM_ARGS.worker_id]`; items of a batch as `ARGV[b + ENQUEUE_ITEM.task]` where `b` is
// the position just before the item.

/** How many ARGV positions the partition header takes (see scripts.ts). */
export const HEADER_ARGS = 5

function args<const N extends string>(lua: string, fields: readonly N[]): Layout<N> {
  return layout(lua, fields, HEADER_ARGS)
}

export const ENQUEUE_ARGS = args('ENQUEUE_ARGS', ['count', 'idempotency_ttl'])
export const ENQUEUE_ITEM = layout('ENQUEUE_ITEM', [
  'id',
  'task',
  'payload',
  'priority',
  'max_attempts',
  'backoff',
  'lease_seconds',
  /** ms, '' = now (or after delay_ms) */
  'at',
  'delay_ms',
  'idempotency_key',
  /** the request's fingerprint, compared when the key is used again */
  'fingerprint',
  'cue_id',
  'cue_name',
  'triggered_by',
  'replayed_from',
])
export const CLAIM_ARGS = args('CLAIM_ARGS', [
  'worker_id',
  'max',
  /** 0: the execution's own lease_seconds, else default_lease_ms */
  'lease_ms',
  'default_lease_ms',
  /** each lease's token is token_base .. '.' .. i */
  'token_base',
  /** then this many task names (0: any task) */
  'task_count',
])
export const CLAIM_ID_ARGS = args('CLAIM_ID_ARGS', [
  'id',
  'worker_id',
  'lease_ms',
  'default_lease_ms',
  'token',
])
export const EXTEND_ARGS = args('EXTEND_ARGS', ['id', 'lease_token', 'worker_id', 'extend_ms'])
export const COMPLETE_ARGS = args('COMPLETE_ARGS', ['count'])
/** evidence: flags of what the report carries, for the cue's verification (EVIDENCE_FLAGS). */
export const COMPLETE_ITEM = layout('COMPLETE_ITEM', [
  'id',
  'lease_token',
  'worker_id',
  'outcome',
  'evidence',
  'http_status',
])

export const FAIL_ARGS = args('FAIL_ARGS', ['count', 'default_backoff'])
export const FAIL_ITEM = layout('FAIL_ITEM', [
  'id',
  'lease_token',
  'worker_id',
  'error',
  /** '1': may retry, '0': terminal now */
  'retry',
  /** '' = the execution's backoff for this attempt */
  'retry_after_ms',
  'outcome',
  'http_status',
])
export const RELEASE_ARGS = args('RELEASE_ARGS', ['count'])
export const RELEASE_ITEM = layout('RELEASE_ITEM', ['id', 'lease_token', 'worker_id', 'delay_ms'])
export const CANCEL_ARGS = args('CANCEL_ARGS', ['id'])
export const REPLAY_ARGS = args('REPLAY_ARGS', ['source_id', 'id'])
export const GET_ARGS = args('GET_ARGS', ['id'])
export const LIST_ARGS = args('LIST_ARGS', [
  /** the log position to scan back from, '' = the newest */
  'start',
  /** return at most this many matches (after skipping `skip`) */
  'limit',
  'skip',
  /** '1': after the page is full, keep counting matches (for a total) */
  'count_all',
  /** at most this many log entries examined per call */
  'max_scan',
  /** filters, '' = any: status names csv (StatusFilter: CueAPI's are mapped in list.lua) */
  'statuses',
  'task',
  'cue_id',
  /** the worker of the latest claim */
  'worker_id',
  'outcome_state',
  'triggered_by',
])
export const LEASES_ARGS = args('LEASES_ARGS', ['limit', 'worker_id', 'task', 'within_ms', 'max_scan'])
export const CLAIMABLE_ARGS = args('CLAIMABLE_ARGS', ['limit', 'task_count'])
export const WORKERS_ARGS = args('WORKERS_ARGS', ['limit'])
export const WORKER_BEAT_ARGS = args('WORKER_BEAT_ARGS', ['worker_id', 'handlers'])
export const WORKER_DELETE_ARGS = args('WORKER_DELETE_ARGS', ['worker_id'])
export const REAP_ARGS = args('REAP_ARGS', ['limit'])
export const PROMOTE_ARGS = args('PROMOTE_ARGS', ['limit'])
export const PURGE_ARGS = args('PURGE_ARGS', ['limit', 'retention_ms'])
/** What a cue gives the executions it fires, and its outcome policy (cue_create and cue_update). */
const CUE_EXECUTION_FIELDS = [
  'task',
  'payload',
  'max_attempts',
  'backoff',
  'lease_seconds',
  /** a VerificationMode, '' = none */
  'verification',
  /** seconds an outcome may take after delivery (webhook) or a tick may wait to be claimed (worker) */
  'outcome_deadline',
  /** consecutive failures that raise an alert */
  'alert_threshold',
  /** on_failure: '1' pause the cue, '1' post its webhook, '1' send its email */
  'on_failure_pause',
  'on_failure_webhook',
  'on_failure_email',
  /** the cue fired when an execution of this one succeeds ('' = none) */
  'on_success_fire',
] as const
export const CUE_CREATE_ARGS = args('CUE_CREATE_ARGS', [
  'id',
  'name',
  'type',
  'transport',
  ...CUE_EXECUTION_FIELDS,
  /** ms, '' = none */
  'next_run',
  'config',
  'partitions',
])
export const CUE_UPDATE_ARGS = args('CUE_UPDATE_ARGS', [
  'id',
  'version',
  'name',
  'status',
  'type',
  'transport',
  ...CUE_EXECUTION_FIELDS,
  /** ms, '' (none) or 'keep' */
  'next_run',
  'config',
])
export const CUE_GET_ARGS = args('CUE_GET_ARGS', ['id', 'offset', 'limit'])
export const CUE_LIST_ARGS = args('CUE_LIST_ARGS', ['status', 'offset', 'limit'])
export const CUE_DELETE_ARGS = args('CUE_DELETE_ARGS', ['id'])
export const CUE_DUE_ARGS = args('CUE_DUE_ARGS', ['limit'])
export const CUE_TICK_ARGS = args('CUE_TICK_ARGS', [
  'id',
  'version',
  /** the next run the plan was made from */
  'expected_next_run',
  /** '' = none */
  'next_run',
  /** then this many pairs: execution id, tick ms (ascending) */
  'tick_count',
])
export const CUE_FIRE_ARGS = args('CUE_FIRE_ARGS', [
  'id',
  'execution_id',
  /** ms, '' = now */
  'at',
  'payload',
  'task',
  'idempotency_key',
  'idempotency_ttl',
])

export const RATES_ARGS = args('RATES_ARGS', [
  /** minutes since the epoch */
  'first_minute',
  'count',
])
export const RATES_REPLY = reply('RATES_REPLY', [])

// outcomes (docs/outcomes.md)
/** An outcome reported without a lease (a webhook execution's handler; write-once). */
export const OUTCOME_ARGS = args('OUTCOME_ARGS', [
  'id',
  'success',
  'outcome',
  'evidence',
  'fingerprint',
  'error',
])
/** repeated: '1' when the same report was recorded before (answered the same). */
export const OUTCOME_REPLY = reply('OUTCOME_REPLY', [
  'status',
  'attempt',
  'outcome_state',
  'repeated',
  'next_due',
])
/** version: the outcome_version the new outcome JSON was made from (else outcome_changed). */
export const EVIDENCE_ARGS = args('EVIDENCE_ARGS', ['id', 'outcome', 'evidence', 'version'])
export const EVIDENCE_REPLY = reply('EVIDENCE_REPLY', ['outcome_state', 'next_due'])
export const VERIFY_ARGS = args('VERIFY_ARGS', ['id', 'valid', 'outcome', 'version'])
export const VERIFY_REPLY = reply('VERIFY_REPLY', ['outcome_state', 'next_due'])
export const VERIFICATION_PENDING_ARGS = args('VERIFICATION_PENDING_ARGS', ['id'])
export const VERIFICATION_PENDING_REPLY = reply('VERIFICATION_PENDING_REPLY', ['outcome_state'])
export const DEADLINES_ARGS = args('DEADLINES_ARGS', ['limit'])
export const DEADLINES_REPLY = reply('DEADLINES_REPLY', ['passed', 'next_due'])

/** An alert as stored (hash AL, SEP-joined) and answered. */
export const ALERT = layout('ALERT', [
  'id',
  /** an AlertType */
  'alert_type',
  'severity',
  'cue_id',
  'execution_id',
  'message',
  /** JSON object */
  'metadata',
  /** ms, '' while not acknowledged */
  'acknowledged_at',
  /** ms */
  'created_at',
])
export const ALERTS_ARGS = args('ALERTS_ARGS', [
  /** '' = any */
  'alert_type',
  'cue_id',
  /** '1', '0' or '' (any) */
  'acknowledged',
  /** ms, '' = any */
  'since',
  /** return at most this many, newest first (the caller's offset + limit) */
  'limit',
])
/** total: how many match; then `count` ALERTs, newest first. */
export const ALERTS_REPLY = reply('ALERTS_REPLY', ['total', 'count'])
export const ALERT_ARGS = args('ALERT_ARGS', ['id'])
/** alert: the ALERT SEP-joined. */
export const ALERT_REPLY = reply('ALERT_REPLY', ['alert'])

export const CUE_STATS_ARGS = args('CUE_STATS_ARGS', ['cue_id', 'first_day', 'days'])
/** durations: recent execution durations (ms, newest first); then `days` CUE_DAY items. */
export const CUE_STATS_REPLY = reply('CUE_STATS_REPLY', ['durations'])
export const USAGE_ARGS = args('USAGE_ARGS', ['first_day', 'days'])
/** Then `days` USAGE_DAY items. */
export const USAGE_REPLY = reply('USAGE_REPLY', ['cues', 'active_cues'])

// Global scripts (the due index; no partition header).
export const DUE_TAKE_ARGS = layout('DUE_TAKE_ARGS', [
  'limit',
  'busy_ms',
  /** '' on Redis (TIME decides); the in-memory store passes the process clock */
  'clock',
])
/** then pairs: partition name, when it was due (ms) */
export const DUE_TAKE_REPLY = layout('DUE_TAKE_REPLY', ['now', 'next_due'])
/** then pairs: partition name, when it is next due (ms, '' = nothing) */
export const DUE_PUT_ARGS = layout('DUE_PUT_ARGS', [
  /** '1': the partitions were taken by due_take, clear their busy mark */
  'taken',
])

/** Tenant key rotation (tenants.ts; a global script). */
export const KEY_ROTATE_ARGS = layout('KEY_ROTATE_ARGS', ['presented_hash', 'new_hash', 'tenant_id'])

// ------------------------------------------------------------------ hash fields
// Records that stay Redis hashes (cues, worker stats) name their fields here once; Lua gets
// `local CF = { status = 'st', ... }` and reads `hmget(key, CF.status, ...)`.

export interface HashFields<N extends string> {
  readonly lua: string
  readonly names: { readonly [K in N]: string }
}

function hashFields<const T extends Record<string, string>>(
  lua: string,
  names: T,
): HashFields<keyof T & string> {
  return { lua, names }
}

/** A cue (hash `c:<cue>`). */
export const CUE_FIELDS = hashFields('CF', {
  name: 'n',
  /** active, paused, completed, failed */
  status: 'st',
  /** recurring, once */
  type: 'ty',
  transport: 'tp',
  /** the task its executions are queued under */
  task: 't',
  payload: 'pl',
  max_attempts: 'm',
  /** seconds csv */
  backoff: 'bo',
  /** its executions' lease seconds ('' = the default) */
  lease_seconds: 'ls',
  /** ms; absent = none */
  next_run: 'nr',
  /** ms: a tick at or before it never fires again */
  last_fired: 'lf',
  /** ms: the last reported attempt */
  last_run: 'lr',
  run_count: 'rc',
  fired_count: 'fc',
  /** +1 per edit */
  version: 'v',
  created_at: 'c',
  updated_at: 'u',
  /** the client's configuration JSON (cron, at, timezone, callback, ...) */
  config: 'cfg',
  /** the tenant's partition count (execution ids it fires must fall in partition 0) */
  partitions: 'pc',
  /** its outcome policy, mirrored from config for the scripts (see CUE_CREATE_ARGS) */
  verification: 'vm',
  outcome_deadline: 'od',
  alert_threshold: 'at',
  on_failure_pause: 'ofp',
  on_failure_webhook: 'ofw',
  on_failure_email: 'ofe',
  on_success_fire: 'osf',
  /** failures in a row (reset by a success): an alert at alert_threshold */
  consecutive_failures: 'cf',
})

/**
 * A worker's stats in one partition (hash `w:<worker>`). Counters only ever grow; leases in
 * flight = claimed - completed - failed - released - cancelled.
 */
export const WORKER_FIELDS = hashFields('WF', {
  claimed: 'cl',
  completed: 'co',
  /** failures reported, and leases that expired */
  failed: 'fa',
  released: 'rl',
  /** leases ended by a cancel */
  cancelled: 'cn',
  /** JSON list of the tasks it serves (its own heartbeat) */
  handlers: 'hd',
  /** ms: when a lease of it last expired unreported */
  lost_at: 'la',
  /** which execution that lease was on */
  lost_execution: 'lx',
})

/** One minute's activity of a partition (hash `rates:<minute>`): what the dashboard draws. */
export const RATE_FIELDS_HASH = hashFields('RF', {
  enqueues: 'enqueues',
  claims: 'claims',
  /** success reports */
  completions: 'completions',
  /** failure reports */
  failures: 'failures',
  /** expired leases re-queued by the reaper */
  reclaims: 'reclaims',
})
export const RATE_FIELDS = Object.keys(RATE_FIELDS_HASH.names) as (keyof typeof RATE_FIELDS_HASH.names)[]
/** One minute, then `count` of them after RATES_REPLY. */
export const RATE_ITEM = layout('RATE_ITEM', RATE_FIELDS)

/** A tenant (hash `{g}:tenant:<id>`, tenants.ts). */
export const TENANT_FIELDS = hashFields('TF', {
  partitions: 'partitions',
  name: 'name',
  email: 'email',
  created_at: 'created',
  /** SHA-256 of its one live API key */
  key_hash: 'kh',
  /** '1'/'0'; absent: the server's default */
  require_lease_token: 'rlt',
  webhook_secret: 'whs',
  /** where alerts are posted (CueAPI's alert_webhook_url) */
  alert_webhook_url: 'awu',
  /** 64 hex characters; alert webhooks are signed with it */
  alert_webhook_secret: 'aws',
})

/** A partition's activity on one UTC day (hash `day:<day>`): `GET /v1/usage`. */
export const DAY_FIELDS = hashFields('DF', {
  /** executions created, internal ones aside */
  executions: 'executions',
  outcomes: 'outcomes',
  outcome_successes: 'outcome_successes',
  outcome_failures: 'outcome_failures',
})
export const DAY_FIELD_NAMES = Object.keys(DAY_FIELDS.names) as (keyof typeof DAY_FIELDS.names)[]
export const USAGE_DAY = layout('USAGE_DAY', DAY_FIELD_NAMES)

/** A cue's executions on one UTC day (hash `cday:<cue>:<day>`): its stats. */
export const CUE_DAY_FIELDS = hashFields('CDF', {
  executions: 'executions',
  successes: 'successes',
  failures: 'failures',
  /** never claimed (worker) or answered (webhook) within the outcome deadline */
  misses: 'misses',
})
export const CUE_DAY_FIELD_NAMES = Object.keys(CUE_DAY_FIELDS.names) as (keyof typeof CUE_DAY_FIELDS.names)[]
export const CUE_DAY = layout('CUE_DAY', CUE_DAY_FIELD_NAMES)

/**
 * Letters in an `evidence` argument, one per fact a verification policy reads: an external id,
 * a result URL, artifacts (non-empty). Lua: `EF.external_id`.
 */
export const EVIDENCE_FLAGS = hashFields('EF', { external_id: 'e', result_url: 'u', artifacts: 'a' })

/**
 * How a record stores its status: one letter (a record's bytes are most of an execution's
 * memory). Lua: `SC.pending`; rec_decode and StoredExecution give the name back.
 */
export const STATUS_CODES = hashFields('SC', {
  scheduled: 's',
  pending: 'p',
  delivering: 'd',
  retrying: 'r',
  success: 'S',
  failed: 'F',
  cancelled: 'C',
})

export const HASH_FIELDS: readonly HashFields<string>[] = [
  CUE_FIELDS,
  WORKER_FIELDS,
  RATE_FIELDS_HASH,
  TENANT_FIELDS,
  DAY_FIELDS,
  CUE_DAY_FIELDS,
  EVIDENCE_FLAGS,
  STATUS_CODES,
]

export function luaHashFields(h: HashFields<string>): string {
  const names = Object.entries(h.names).map(([k, v]) => `${k} = '${v}'`)
  return `local ${h.lua} = { ${names.join(', ')} }`
}

/** Every layout; scripts.ts gives each script the ones it names. */
export const LAYOUTS: readonly Layout<string>[] = [
  EXECUTION,
  ATTEMPT,
  HEAD,
  ERROR_REPLY,
  ENQUEUE_REPLY,
  ENQUEUED,
  CLAIM_REPLY,
  CLAIMED,
  REPORT_REPLY,
  REPORTED,
  EXTEND_REPLY,
  CANCEL_REPLY,
  REPLAY_REPLY,
  GET_REPLY,
  LIST_REPLY,
  LISTED,
  LEASES_REPLY,
  LEASE,
  QUEUES_REPLY,
  CLAIMABLE_REPLY,
  CLAIMABLE,
  WORKERS_REPLY,
  WORKER_ITEM,
  WORKER_DELETE_REPLY,
  REAP_REPLY,
  PROMOTE_REPLY,
  PURGE_REPLY,
  OK_REPLY,
  CUE_CREATE_REPLY,
  CUE_UPDATE_REPLY,
  CUE_GET_REPLY,
  CUE_LIST_REPLY,
  CUE_ITEM,
  CUE_DUE_REPLY,
  DUE_CUE,
  CUE_TICK_REPLY,
  CUE_FIRE_REPLY,
  NOTIFY_MESSAGE,
  EVENT,
  ENQUEUE_ARGS,
  ENQUEUE_ITEM,
  CLAIM_ARGS,
  CLAIM_ID_ARGS,
  EXTEND_ARGS,
  COMPLETE_ARGS,
  COMPLETE_ITEM,
  FAIL_ARGS,
  FAIL_ITEM,
  RELEASE_ARGS,
  RELEASE_ITEM,
  CANCEL_ARGS,
  REPLAY_ARGS,
  GET_ARGS,
  LIST_ARGS,
  LEASES_ARGS,
  CLAIMABLE_ARGS,
  WORKERS_ARGS,
  WORKER_BEAT_ARGS,
  WORKER_DELETE_ARGS,
  REAP_ARGS,
  PROMOTE_ARGS,
  PURGE_ARGS,
  CUE_CREATE_ARGS,
  CUE_UPDATE_ARGS,
  CUE_GET_ARGS,
  CUE_LIST_ARGS,
  CUE_DELETE_ARGS,
  CUE_DUE_ARGS,
  CUE_TICK_ARGS,
  CUE_FIRE_ARGS,
  RATES_ARGS,
  RATES_REPLY,
  OUTCOME_ARGS,
  OUTCOME_REPLY,
  EVIDENCE_ARGS,
  EVIDENCE_REPLY,
  VERIFY_ARGS,
  VERIFY_REPLY,
  VERIFICATION_PENDING_ARGS,
  VERIFICATION_PENDING_REPLY,
  DEADLINES_ARGS,
  DEADLINES_REPLY,
  ALERT,
  ALERTS_ARGS,
  ALERTS_REPLY,
  ALERT_ARGS,
  ALERT_REPLY,
  CUE_STATS_ARGS,
  CUE_STATS_REPLY,
  USAGE_ARGS,
  USAGE_REPLY,
  DUE_TAKE_ARGS,
  DUE_TAKE_REPLY,
  DUE_PUT_ARGS,
  KEY_ROTATE_ARGS,
  RATE_ITEM,
  USAGE_DAY,
  CUE_DAY,
]

/**
 * A layout as a Lua table of 1-based positions, with its size as `_n` and its last position as
 * `_last` (where the items of a batch start after script arguments):
 * `local X = { status = 1, ..., _n = 33, _last = 33 }`. One local per layout, not per field: a Lua
 * chunk may hold only 200 locals.
 */
export function luaLayout(l: Layout<string>): string {
  const fields = l.fields.map((f, i) => `${f} = ${l.offset + i + 1}`)
  return `local ${l.lua} = { ${[...fields, `_n = ${l.size}`, `_last = ${l.offset + l.size}`].join(', ')} }`
}
