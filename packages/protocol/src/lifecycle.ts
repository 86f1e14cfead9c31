/*
 * The states an execution, an attempt and a worker go through, each listed once with what moves
 * it on (docs/architecture.md#execution-statuses). Plain constants without zod, so the dashboard's
 * bundle imports them as they are (`@cuekit/protocol/lifecycle`); `status.ts` builds the zod
 * schemas from them.
 */

/**
 * Every execution status; CueAPI's names where CueAPI has one. In the order the API and the
 * dashboard list them (`/v1/queues`, the overview): claimable, waiting for a time, leased, waiting
 * out a backoff, then the terminal ones.
 */
export const EXECUTION_STATUS = {
  /** Claimable now. Leaves by claim → `delivering`, or cancel → `cancelled`. */
  pending: 'pending',
  /**
   * Waiting for its `scheduled_for` time: a delayed enqueue, a cue's future tick, a delayed release.
   * Leaves by promote (the time has come) → `pending`, or cancel → `cancelled`.
   */
  scheduled: 'scheduled',
  /**
   * Leased to a worker (CueAPI's name for claimed). Leaves by complete → `success`; fail →
   * `retrying` or `failed`; release → `pending` or `scheduled`; reap of its expired lease →
   * `pending`, or `failed` on the last attempt; cancel → `cancelled` when its lease ends.
   */
  delivering: 'delivering',
  /** A failed attempt waiting out its backoff. Leaves by promote → `pending`, or cancel → `cancelled`. */
  retrying: 'retrying',
  /** Terminal: the outcome was reported successful. Only replay runs it again, as a new execution. */
  success: 'success',
  /**
   * Terminal: attempts used up, a non-retryable failure, or the lease expired on the last attempt.
   * Only replay runs it again, as a new execution.
   */
  failed: 'failed',
  /** Terminal: cancelled before or during delivery. Only replay runs it again, as a new execution. */
  cancelled: 'cancelled',
} as const

type Status = (typeof EXECUTION_STATUS)[keyof typeof EXECUTION_STATUS]

/** {@link EXECUTION_STATUS} as a list, in the same order. */
export const EXECUTION_STATUSES: readonly Status[] = Object.values(EXECUTION_STATUS)

/** The statuses nothing but a replay leaves; kept for `CUEKIT_RETENTION_SECONDS`, then purged. */
export const TERMINAL_STATUSES: readonly Status[] = [
  EXECUTION_STATUS.success,
  EXECUTION_STATUS.failed,
  EXECUTION_STATUS.cancelled,
]

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATUSES.includes(status)
}

/** How one attempt ended, as recorded in the execution's attempt history. */
export const ATTEMPT_END = {
  /** Its lease holder reported success. */
  success: 'success',
  /** Its lease holder reported failure (retried or final, as the execution's status says). */
  failure: 'failure',
  /** Its lease expired unreported and the reaper took the execution back. */
  lease_expired: 'lease_expired',
  /** Its lease holder gave the execution back; the attempt does not count against max_attempts. */
  released: 'released',
  /** The execution was cancelled while this attempt held it. */
  cancelled: 'cancelled',
} as const

/**
 * A worker's liveness, from its last sign of life (a worker heartbeat, a claim, a lease heartbeat)
 * and the limits in `limits.ts`.
 */
export const WORKER_STATE = {
  /** Seen within `workerActiveSeconds` (180 s). Silence makes it `stale`. */
  active: 'active',
  /** Silent longer than `workerActiveSeconds`. Any sign of life makes it `active`; more silence `dead`. */
  stale: 'stale',
  /** Silent longer than `workerStaleSeconds` (900 s). Any sign of life makes it `active` again. */
  dead: 'dead',
  /**
   * A lease of it expired unreported and it has shown no sign of life since (crashed or stuck).
   * Any sign of life makes it `active`; silence past `workerStaleSeconds` makes it `dead`.
   */
  lost: 'lost',
} as const

/** {@link WORKER_STATE} as a list, in the same order. */
export const WORKER_STATES: readonly (typeof WORKER_STATE)[keyof typeof WORKER_STATE][] =
  Object.values(WORKER_STATE)

/**
 * What is known of an execution's outcome (CueAPI's `outcome_state`; null before any report), apart
 * from its delivery status (docs/outcomes.md).
 */
export const OUTCOME_STATE = {
  /** Reported successful; the cue asks no verification. `/verify` may still approve or reject it. */
  reported_success: 'reported_success',
  /** Reported as a failure (whatever the cue's policy). `/verify` may still approve or reject it. */
  reported_failure: 'reported_failure',
  /** The cue's evidence policy passed, or someone approved it through `/verify`. Final. */
  verified_success: 'verified_success',
  /** A `manual` cue's success awaiting approval: `/verify` makes it verified_success or verification_failed. */
  verification_pending: 'verification_pending',
  /** Evidence missing for the cue's policy (a later `PATCH …/evidence` re-runs it), or rejected by hand. */
  verification_failed: 'verification_failed',
  /** Its outcome deadline passed with no report (an `outcome_timeout` alert was raised). */
  unknown: 'unknown',
} as const

/** {@link OUTCOME_STATE} as a list, in the same order. */
export const OUTCOME_STATES: readonly (typeof OUTCOME_STATE)[keyof typeof OUTCOME_STATE][] =
  Object.values(OUTCOME_STATE)

/** A cue's verification policy for the outcomes of its executions (`verification.mode`). */
export const VERIFICATION_MODES = [
  'none',
  'require_external_id',
  'require_result_url',
  'require_artifacts',
  'manual',
] as const

/** The kinds of alert the server raises (`GET /v1/alerts`). */
export const ALERT_TYPES = [
  'consecutive_failures',
  'verification_failed',
  'outcome_timeout',
  'missed_window',
] as const
