// What each script takes after the partition header (ARGV), and the items of batches.

import { args, layout } from './layout.ts'

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
  /** '1' / '0': with / without evidence, '' = any */
  'has_evidence',
  /** resultTypeDigest of the wanted result_type, '' = any */
  'result_type',
])

/** limit 0: no rows, only LEASES_REPLY.oldest_claimed_at (a listing's oldest_claimed_at). */
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
  /** ms without a success that raise a missed_window alert ('' = none: one-time cues) */
  'missed_window',
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

/** version: the outcome_version the new outcome JSON was made from (else outcome_changed). */
export const EVIDENCE_ARGS = args('EVIDENCE_ARGS', ['id', 'outcome', 'evidence', 'version'])

export const VERIFY_ARGS = args('VERIFY_ARGS', ['id', 'valid', 'outcome', 'version'])

export const VERIFICATION_PENDING_ARGS = args('VERIFICATION_PENDING_ARGS', ['id'])

/** token: the session token's digest (never the token itself: record fields are SEP-joined). */
export const LIVE_CLAIM_ARGS = args('LIVE_CLAIM_ARGS', ['id', 'token'])

export const DEADLINES_ARGS = args('DEADLINES_ARGS', ['limit'])

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

export const ALERT_ARGS = args('ALERT_ARGS', ['id'])

export const CUE_STATS_ARGS = args('CUE_STATS_ARGS', ['cue_id', 'first_day', 'days'])

export const USAGE_ARGS = args('USAGE_ARGS', ['first_day', 'days'])

// Global scripts (the due index; no partition header).
export const DUE_TAKE_ARGS = layout('DUE_TAKE_ARGS', [
  'limit',
  'busy_ms',
  /** '' on Redis (TIME decides); the in-memory store passes the process clock */
  'clock',
])

/** then pairs: partition name, when it is next due (ms, '' = nothing) */
export const DUE_PUT_ARGS = layout('DUE_PUT_ARGS', [
  /** '1': the partitions were taken by due_take, clear their busy mark */
  'taken',
])

/** Tenant key rotation (tenants.ts; a global script). */
export const KEY_ROTATE_ARGS = layout('KEY_ROTATE_ARGS', ['presented_hash', 'new_hash', 'tenant_id'])
