// What is stored: an execution record, an attempt, an alert, and the fields of the records kept as
// Redis hashes (cues, worker stats, tenants, counters). How a record is written: layout.ts.

import { EXECUTION_STATUSES, type ExecutionStatus, isTerminal } from '@cuekit/protocol'
import { hashFields, layout } from './layout.ts'

/**
 * The fields of an execution record. Trailing empty fields are not written, so a fresh pending
 * execution stores only the first three.
 */
export const EXECUTION = layout('X', [
  // Lease transitions read and write the first fields: a record is split only as far as its last
  // non-empty field, so the fields of a claimed execution come first, creation options later.
  /** scheduled, pending, delivering, retrying, success, failed, cancelled (stored as STATUS_CODES) */
  'status',
  'task',
  /** ms in base 36 (8 characters, not 13: a record's bytes are most of an execution's memory) */
  'created_at',
  /** the claim number, '' = 0; also the lease's fencing epoch */
  'attempt',
  /** ms, '' = created_at */
  'updated_at',
  /** the latest lease (token to lease_ms) is kept when it ends: only status delivering makes it one */
  'lease_token',
  /** the last worker that claimed it */
  'worker_id',
  'claimed_at',
  'expires_at',
  'lease_ms',
  /** ms: the first claim */
  'started_at',
  /** attempts released (not counted against max_attempts) */
  'released',
  /** '1' when a cancel was requested while delivering */
  'cancel_requested',
  'heartbeats',
  'last_heartbeat_at',
  /** '' = the default (LIMITS.defaultMaxAttempts) */
  'max_attempts',
  /** '' = 0 */
  'priority',
  /** the token of the last report, answered again when the same lease repeats it */
  'report_token',
  /** the last report: kind (s success, f failure, r release), ':', status, ':', attempt */
  'report',
  /** how the latest attempt ended when that ended the execution (an AttemptEnd) */
  'ended',
  /** how the latest attempt's report was authorised (lease_token, worker_id, api_key) */
  'reported_with',
  /** ms */
  'finished_at',
  /** ms: when a scheduled or retrying execution becomes pending */
  'due_at',
  'error_message',
  'failure_reason',
  /** an OutcomeState, '' before any */
  'outcome_state',
  /** '1' / '0': the recorded outcome's success */
  'outcome_success',
  /** ms: when the outcome was recorded */
  'outcome_at',
  /** +1 per change of the outcome or its evidence (a PATCH applies only to what it read) */
  'outcome_version',
  /** ms: the 2xx answer of a webhook; a worker's success report */
  'delivered_at',
  /** ms, '' = created_at */
  'scheduled_for',
  'cue_id',
  'cue_name',
  /** scheduled, manual_fire, replay, chain; '' = enqueued through the API */
  'triggered_by',
  /** seconds csv, '' = the engine's default */
  'backoff',
  /** the execution's own lease length in seconds, '' = the claim's or the engine's default */
  'lease_seconds',
  'idempotency_key',
  'replayed_from',
  /** ms: when an outcome is due (delivered without one, or a cue's execution still unclaimed) */
  'deadline_at',
  /** '1': the payload lives in the PL hash */
  'payload_external',
  /** the fingerprint of an outcome reported without a lease (write-once: the same one repeats) */
  'outcome_fp',
  /** the last webhook delivery's HTTP status */
  'http_status',
  'chain_parent_id',
  /** '' = 0 */
  'chain_depth',
  /** 'person': a verify or verification-pending call set outcome_state, which evidence then leaves */
  'verdict_by',
  /** a live-claim's session token, hashed (sha256, base64url, 22 characters): the first one wins */
  'live_token',
  /** ms: when that live-claim was recorded */
  'live_claimed_at',
  /** the stored evidence as EVIDENCE_FLAGS letters (`any`: some evidence field is set), for filters */
  'evidence',
  /** a digest of the evidence's result_type (evidenceFlags), for ?result_type= */
  'result_type',
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
  /** ms: missed_window_multiplier × the schedule's interval ('' = no missed_window alerts) */
  missed_window: 'mw',
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

export const RATE_FIELDS = RATE_FIELDS_HASH.fields

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

export const DAY_FIELD_NAMES = DAY_FIELDS.fields

/** A cue's executions on one UTC day (hash `cday:<cue>:<day>`): its stats. */
export const CUE_DAY_FIELDS = hashFields('CDF', {
  executions: 'executions',
  successes: 'successes',
  failures: 'failures',
  /** never claimed (worker) or answered (webhook) within the outcome deadline */
  misses: 'misses',
})

export const CUE_DAY_FIELD_NAMES = CUE_DAY_FIELDS.fields

/**
 * Letters in an `evidence` argument, one per fact a verification policy reads: an external id,
 * a result URL, artifacts (non-empty). Lua: `EF.external_id`.
 */
export const EVIDENCE_FLAGS = hashFields('EF', {
  external_id: 'e',
  result_url: 'u',
  artifacts: 'a',
  any: 'v',
})

/**
 * How a record stores its status: one letter (a record's bytes are most of an execution's
 * memory), the status's initial, upper case for a terminal one (pending 'p', success 'S').
 * Lua: `SC.pending`; rec_decode and StoredExecution give the name back. Changing a status's
 * letter is a data migration.
 */
export const STATUS_CODES = hashFields(
  'SC',
  Object.fromEntries(
    EXECUTION_STATUSES.map((s) => [s, isTerminal(s) ? s[0]!.toUpperCase() : s[0]!]),
  ) as Record<ExecutionStatus, string>,
)
if (new Set(Object.values(STATUS_CODES.names)).size !== EXECUTION_STATUSES.length) {
  throw new Error('two execution statuses share a stored letter')
}
