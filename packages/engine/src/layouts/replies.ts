// What each script answers (read by name in decode.ts), and the pub/sub messages scripts publish.

import { layout, reply } from './layout.ts'
import { CUE_DAY_FIELD_NAMES, DAY_FIELD_NAMES, RATE_FIELDS } from './records.ts'

/**
 * Every partition script's reply starts with `code` ('ok' or an error code) and `now` (store ms).
 * `next_due`, where a reply has it, is the earliest deadline the script created (ms or ''): when
 * the partition next needs maintenance.
 */
/** A reply that is an error: the code, then what the error names (e.g. the reused key). */
export const ERROR_REPLY = layout('ERROR_REPLY', ['code', 'detail'])

export const ENQUEUE_REPLY = reply('ENQUEUE_REPLY', ['next_due'])

/** One enqueued item (after ENQUEUE_REPLY): created is '1', or '0' for a repeated idempotency key. */
export const ENQUEUED = layout('ENQUEUED', ['id', 'created', 'status'])

export const CLAIM_REPLY = reply('CLAIM_REPLY', ['count', 'next_due'])

/**
 * A leased execution (after CLAIM_REPLY, `count` times). scheduled_for is '' when it was due at
 * creation: created_at (base 36, as stored) is then when, decoded by the engine (dueAt in
 * decode.ts) rather than by a Lua loop per item.
 */
export const CLAIMED = layout('CLAIMED', [
  'id',
  'task',
  'payload',
  'scheduled_for',
  'created_at',
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
/** oldest_claimed_at: ms, the earliest claimed_at of the matches examined ('' = none claimed). */
export const LIST_REPLY = reply('LIST_REPLY', ['next', 'matched', 'count', 'oldest_claimed_at'])

export const LISTED = layout('LISTED', ['position', 'id', 'record', 'payload', 'outcome'])

/** oldest_claimed_at: ms, the earliest claim among the leases examined that match ('' = none). */
export const LEASES_REPLY = reply('LEASES_REPLY', ['count', 'oldest_claimed_at'])

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

/** A pending execution (claimable.lua); scheduled_for and created_at as in CLAIMED. */
export const CLAIMABLE = layout('CLAIMABLE', [
  'id',
  'task',
  'payload',
  'scheduled_for',
  'created_at',
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

/** On the notify channel: executions became claimable. Then pairs: task, how many. */
export const NOTIFY_MESSAGE = layout('NOTIFY_MESSAGE', ['tenant_id', 'total'])

/** On a tenant's event channel: an execution changed status. */
export const EVENT = layout('EVENT', ['id', 'task', 'status', 'attempt', 'worker_id', 'at'])

export const RATES_REPLY = reply('RATES_REPLY', [])

/** repeated: '1' when the same report was recorded before (answered the same). */
export const OUTCOME_REPLY = reply('OUTCOME_REPLY', [
  'status',
  'attempt',
  'outcome_state',
  'repeated',
  'next_due',
])

export const EVIDENCE_REPLY = reply('EVIDENCE_REPLY', ['outcome_state', 'next_due'])

export const VERIFY_REPLY = reply('VERIFY_REPLY', ['outcome_state', 'next_due'])

export const VERIFICATION_PENDING_REPLY = reply('VERIFICATION_PENDING_REPLY', ['outcome_state'])

/** live_claimed_at: ms of the first live-claim (this one, or the same token's earlier one). */
export const LIVE_CLAIM_REPLY = reply('LIVE_CLAIM_REPLY', ['live_claimed_at'])

export const DEADLINES_REPLY = reply('DEADLINES_REPLY', ['passed', 'next_due'])

/** total: how many match; then `count` ALERTs, newest first. */
export const ALERTS_REPLY = reply('ALERTS_REPLY', ['total', 'count'])

/** alert: the ALERT SEP-joined. */
export const ALERT_REPLY = reply('ALERT_REPLY', ['alert'])

/** durations: recent execution durations (ms, newest first); then `days` CUE_DAY items. */
export const CUE_STATS_REPLY = reply('CUE_STATS_REPLY', ['durations'])

/** Then `days` USAGE_DAY items. */
export const USAGE_REPLY = reply('USAGE_REPLY', ['cues', 'active_cues'])

/** then pairs: partition name, when it was due (ms) */
export const DUE_TAKE_REPLY = layout('DUE_TAKE_REPLY', ['now', 'next_due'])

/** One minute, then `count` of them after RATES_REPLY. */
export const RATE_ITEM = layout('RATE_ITEM', RATE_FIELDS)

export const USAGE_DAY = layout('USAGE_DAY', DAY_FIELD_NAMES)

export const CUE_DAY = layout('CUE_DAY', CUE_DAY_FIELD_NAMES)
