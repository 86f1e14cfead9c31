import { z } from 'zod'
import {
  ExecutionId,
  InputTimestamp,
  LeaseSeconds,
  LeaseToken,
  TaskFilter,
  TaskName,
  Timestamp,
  WorkerId,
} from './common.ts'
import { ErrorBody } from './errors.ts'
import { LIMITS } from './limits.ts'
import { EvidenceFields, ExecutionOutcome, OUTCOME_LIMITS, OutcomeState, TriggeredBy } from './outcomes.ts'
import { AttemptEnd, ExecutionStatus } from './status.ts'

// ---------------------------------------------------------------- enqueue

const EnqueueFields = z.strictObject({
  // Required: an execution of a task nothing serves would wait forever. (Cue-fired executions
  // take theirs from the cue's payload; that path does not go through this schema.)
  task: TaskName,
  payload: z.unknown().optional(),
  scheduled_for: InputTimestamp.optional(),
  delay_seconds: z.number().min(0).max(LIMITS.maxDelaySeconds).optional(),
  priority: z.number().int().min(LIMITS.minPriority).max(LIMITS.maxPriority).optional(),
  max_attempts: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
  backoff_seconds: z
    .array(z.number().min(0).max(LIMITS.maxBackoffSeconds))
    .min(1)
    .max(LIMITS.maxAttempts)
    .optional(),
  lease_seconds: LeaseSeconds.optional(),
  idempotency_key: z.string().min(1).max(LIMITS.idempotencyKeyMaxLength).optional(),
})

const oneStartTime = (v: { scheduled_for?: string | undefined; delay_seconds?: number | undefined }) =>
  v.scheduled_for === undefined || v.delay_seconds === undefined

/** `POST /v1/executions`. The `Idempotency-Key` header may stand in for `idempotency_key`. */
export const EnqueueRequest = EnqueueFields.refine(oneStartTime, {
  message: 'send scheduled_for or delay_seconds, not both',
  path: ['delay_seconds'],
})
export type EnqueueRequest = z.infer<typeof EnqueueRequest>

/** `POST /v1/executions/bulk`. */
export const BulkEnqueueRequest = z.strictObject({
  executions: z.array(EnqueueRequest).min(1).max(LIMITS.maxBulkEnqueue),
})
export type BulkEnqueueRequest = z.infer<typeof BulkEnqueueRequest>

export const BulkEnqueueResponse = z.object({ execution_ids: z.array(ExecutionId) })
export type BulkEnqueueResponse = z.infer<typeof BulkEnqueueResponse>

// ---------------------------------------------------------------- records

/**
 * How an attempt's report was authorised: with the lease token (fenced: a stale holder can never
 * report), with the worker id alone (checked against the current holder), or with neither (any
 * holder of the tenant's API key could have sent it; CueAPI clients send no token).
 */
export const ReportedWith = z.enum(['lease_token', 'worker_id', 'api_key'])
export type ReportedWith = z.infer<typeof ReportedWith>

/** One entry of an execution's attempt history, oldest first. */
export const AttemptRecord = z.object({
  attempt: z.number().int(),
  epoch: z.number().int(),
  worker_id: z.string(),
  claimed_at: Timestamp,
  ended_at: Timestamp.nullable(),
  outcome: AttemptEnd.nullable(),
  error: z.string().nullable(),
  /** Null when nobody reported (lease expired, cancelled) and for attempts still running. */
  reported_with: ReportedWith.nullable(),
})
export type AttemptRecord = z.infer<typeof AttemptRecord>

/** A lease as others may see it: never carries the token. */
export const LeaseView = z.object({
  worker_id: z.string(),
  epoch: z.number().int(),
  claimed_at: Timestamp,
  expires_at: Timestamp,
  remaining_ms: z.number().int(),
  lease_seconds: z.number(),
  heartbeats: z.number().int(),
  last_heartbeat_at: Timestamp.nullable(),
})
export type LeaseView = z.infer<typeof LeaseView>

/** The lease handed to the claimer: the only place a token is ever returned. */
export const LeaseGrant = z.object({
  token: z.string(),
  epoch: z.number().int(),
  expires_at: Timestamp,
  lease_seconds: z.number(),
})
export type LeaseGrant = z.infer<typeof LeaseGrant>

export const ExecutionSummary = z.object({
  execution_id: ExecutionId,
  id: ExecutionId,
  task: z.string(),
  payload: z.unknown(),
  status: ExecutionStatus,
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  priority: z.number().int(),
  backoff_seconds: z.array(z.number()),
  cue_id: z.string().nullable(),
  cue_name: z.string().nullable(),
  scheduled_for: Timestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
  finished_at: Timestamp.nullable(),
  /** When a `retrying` or `scheduled` execution becomes claimable. */
  next_attempt_at: Timestamp.nullable(),
  lease: LeaseView.nullable(),
  cancel_requested: z.boolean(),
  replayed_from: z.string().nullable(),
  /** Why it exists: a cue's tick (`scheduled`), `manual_fire`, `replay`, `chain`, or `api`. */
  triggered_by: TriggeredBy,
  /** For `chain`: the execution whose success fired it, and how deep the chain is (1 = first). */
  chain_parent_id: z.string().nullable(),
  chain_depth: z.number().int(),
  idempotency_key: z.string().nullable(),
  /** The last delivery error, worker error, or system reason (CueAPI's name). */
  error_message: z.string().nullable(),
  /** Why a failed execution failed: `failure`, `lease_expired` or `attempts_exhausted`… */
  failure_reason: z.string().nullable(),
  /** CueAPI: how many times it was claimed (a webhook execution: delivery attempts). */
  attempts: z.number().int(),
  /** The last webhook delivery's HTTP status (null for worker executions and before a response). */
  http_status: z.number().int().nullable(),
  /** Webhook: the first claim (kept across retries); worker: the latest claim. */
  started_at: Timestamp.nullable(),
  /** Webhook: the 2xx answer; worker: the success report. */
  delivered_at: Timestamp.nullable(),
  /** The latest claim. */
  last_attempt_at: Timestamp.nullable(),
  /** The worker of the latest claim, also after its lease ended. */
  claimed_by_worker: z.string().nullable(),
  claimed_at: Timestamp.nullable(),
  last_heartbeat_at: Timestamp.nullable(),
  outcome_state: OutcomeState.nullable(),
  outcome: ExecutionOutcome.nullable(),
})
export type ExecutionSummary = z.infer<typeof ExecutionSummary>

/** `GET /v1/executions/{id}`: the summary plus every attempt, oldest first. */
export const ExecutionRecord = ExecutionSummary.extend({ history: z.array(AttemptRecord) })
export type ExecutionRecord = z.infer<typeof ExecutionRecord>

/**
 * Status names a listing filters by: Cuekit's statuses, and CueAPI's, mapped (docs/outcomes.md):
 * `retry_ready` = pending after a failed or expired attempt; `missed` = a cue's execution still
 * unclaimed when its outcome deadline passed; `pending_outcome` = a webhook delivered (success)
 * whose outcome is not reported yet; `outcome_timeout` = its outcome deadline passed unreported.
 */
export const StatusFilter = z.enum([
  ...ExecutionStatus.options,
  'retry_ready',
  'missed',
  'pending_outcome',
  'outcome_timeout',
])
export type StatusFilter = z.infer<typeof StatusFilter>

export const ListExecutionsQuery = z
  .strictObject({
    status: StatusFilter.optional(),
    /** Comma-separated status names (any of them). */
    status__in: z
      .string()
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(StatusFilter).min(1))
      .optional(),
    cue_id: z.string().min(1).max(64).optional(),
    task: TaskFilter.optional(),
    /** The worker of the latest claim (CueAPI: claimed_by_worker). */
    worker_id: WorkerId.optional(),
    outcome_state: OutcomeState.optional(),
    triggered_by: TriggeredBy.optional(),
    /** CueAPI hosted: outcomes with (`true`) or without (`false`) evidence. */
    has_evidence: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    /** CueAPI hosted: outcomes whose evidence has this result_type. */
    result_type: z.string().min(1).max(OUTCOME_LIMITS.resultTypeMaxLength).optional(),
    limit: z.coerce.number().int().min(1).max(LIMITS.maxListLimit).default(20),
    /** Offset paging (CueAPI). For long scans use `cursor` (from `next_cursor`) instead. */
    offset: z.coerce.number().int().min(0).max(LIMITS.maxListOffset).default(0),
    cursor: z.string().min(1).max(200).optional(),
  })
  .refine((q) => !(q.status && q.status__in), {
    message: 'send status or status__in, not both',
    path: ['status__in'],
  })
  .refine((q) => !(q.cursor && q.offset > 0), {
    message: 'send offset or cursor, not both',
    path: ['cursor'],
  })
export type ListExecutionsQuery = z.output<typeof ListExecutionsQuery>

export const ListExecutionsResponse = z.object({
  executions: z.array(ExecutionSummary),
  /** How many executions match the filters (all pages). */
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  has_more: z.boolean(),
  /** Resume here with `cursor` (stable while executions are added), null on the last page. */
  next_cursor: z.string().nullable(),
  /**
   * CueAPI's earliest claimed_at of the filtered set (null when none was claimed); what it covers
   * is in docs/outcomes.md (the whole set, except for unfiltered and status/task-only listings).
   * Null when absent, so clients read servers that predate it.
   */
  oldest_claimed_at: Timestamp.nullable().default(null),
})
export type ListExecutionsResponse = z.infer<typeof ListExecutionsResponse>

// ---------------------------------------------------------------- claim

export const ClaimRequest = z.strictObject({
  worker_id: WorkerId,
  task: z.union([TaskName, z.array(TaskName).min(1).max(50)]).optional(),
  max: z.number().int().min(1).max(LIMITS.maxClaimBatch).default(1),
  wait_seconds: z.number().min(0).max(LIMITS.maxWaitSeconds).default(0),
  lease_seconds: LeaseSeconds.optional(),
  /**
   * Native: outcome reports of executions this worker finished, recorded before claiming (a
   * worker reports and asks for more in one round trip). Answered in `results`, item by item.
   */
  get outcomes() {
    return z.array(BatchOutcomeItem).min(1).max(LIMITS.maxBatchReports).optional()
  },
})
export type ClaimRequest = z.infer<typeof ClaimRequest>

export const ClaimByIdRequest = z.strictObject({
  worker_id: WorkerId,
  lease_seconds: LeaseSeconds.optional(),
})
export type ClaimByIdRequest = z.infer<typeof ClaimByIdRequest>

export const ClaimedExecution = z.object({
  execution_id: ExecutionId,
  id: ExecutionId,
  cue_id: z.string().nullable(),
  cue_name: z.string().nullable(),
  task: z.string(),
  payload: z.unknown(),
  scheduled_for: Timestamp,
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  lease: LeaseGrant,
})
export type ClaimedExecution = z.infer<typeof ClaimedExecution>

export const ClaimResponse = z.object({
  claimed: z.boolean(),
  execution_id: ExecutionId.optional(),
  lease_seconds: z.number().optional(),
  executions: z.array(ClaimedExecution),
  /** The answers to the request's `outcomes`, in order (only when it sent some). */
  get results() {
    return z.array(BatchOutcomeResult).optional()
  },
})
export type ClaimResponse = z.infer<typeof ClaimResponse>

export const ClaimableQuery = z.strictObject({ task: TaskName.optional() })
export type ClaimableQuery = z.infer<typeof ClaimableQuery>

export const ClaimableExecution = z.object({
  execution_id: ExecutionId,
  cue_id: z.string().nullable(),
  cue_name: z.string().nullable(),
  task: z.string(),
  scheduled_for: Timestamp,
  payload: z.unknown(),
  attempt: z.number().int(),
})
export type ClaimableExecution = z.infer<typeof ClaimableExecution>

export const ClaimableResponse = z.object({ executions: z.array(ClaimableExecution) })
export type ClaimableResponse = z.infer<typeof ClaimableResponse>

// ---------------------------------------------------------------- heartbeat

export const HeartbeatRequest = z.strictObject({
  lease_token: LeaseToken.optional(),
  extend_seconds: LeaseSeconds.optional(),
  worker_id: WorkerId.optional(),
})
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>

export const HeartbeatResponse = z.object({
  acknowledged: z.literal(true),
  execution_id: ExecutionId,
  lease_extended_until: Timestamp,
  lease: LeaseView,
})
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>

export const BatchHeartbeatRequest = z.strictObject({
  leases: z
    .array(
      z.strictObject({
        execution_id: ExecutionId,
        lease_token: LeaseToken,
        extend_seconds: LeaseSeconds.optional(),
      }),
    )
    .min(1)
    .max(LIMITS.maxBatchReports),
})
export type BatchHeartbeatRequest = z.infer<typeof BatchHeartbeatRequest>

/** The error of one item of a batch; the batch itself still answers 200. */
export const ItemError = ErrorBody.shape.error
export type ItemError = z.infer<typeof ItemError>

export const BatchHeartbeatResult = z.union([
  HeartbeatResponse,
  z.object({ execution_id: ExecutionId, error: ItemError }),
])
export type BatchHeartbeatResult = z.infer<typeof BatchHeartbeatResult>

export const BatchHeartbeatResponse = z.object({ results: z.array(BatchHeartbeatResult) })
export type BatchHeartbeatResponse = z.infer<typeof BatchHeartbeatResponse>

// ---------------------------------------------------------------- outcome

const OutcomeFields = {
  success: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().max(LIMITS.maxErrorLength).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  ...EvidenceFields,
  lease_token: LeaseToken.optional(),
  worker_id: WorkerId.optional(),
  /** `false` makes a failure terminal even when attempts remain. */
  retry: z.boolean().optional(),
  retry_after_seconds: z.number().min(0).max(LIMITS.maxBackoffSeconds).optional(),
}

export const OutcomeRequest = z.strictObject(OutcomeFields)
export type OutcomeRequest = z.infer<typeof OutcomeRequest>

export const OutcomeResponse = z.object({
  execution_id: ExecutionId,
  status: ExecutionStatus,
  attempt: z.number().int(),
  outcome_recorded: z.literal(true),
  next_attempt_at: Timestamp.nullable().optional(),
  /** The outcome as now known (null for a release, which reports no outcome). */
  outcome_state: OutcomeState.nullable().optional(),
  /** CueAPI answers `reason: null` here. */
  reason: z.null().optional(),
})
export type OutcomeResponse = z.infer<typeof OutcomeResponse>

/** One report of a batch: the outcome fields plus the execution and its lease token. */
export const BatchOutcomeItem = z.strictObject({
  ...OutcomeFields,
  execution_id: ExecutionId,
  lease_token: LeaseToken,
})
export type BatchOutcomeItem = z.infer<typeof BatchOutcomeItem>

export const BatchOutcomeRequest = z.strictObject({
  outcomes: z.array(BatchOutcomeItem).min(1).max(LIMITS.maxBatchReports),
})
export type BatchOutcomeRequest = z.infer<typeof BatchOutcomeRequest>

export const BatchOutcomeResult = z.union([
  OutcomeResponse,
  z.object({ execution_id: ExecutionId, error: ItemError }),
])
export type BatchOutcomeResult = z.infer<typeof BatchOutcomeResult>

export const BatchOutcomeResponse = z.object({ results: z.array(BatchOutcomeResult) })
export type BatchOutcomeResponse = z.infer<typeof BatchOutcomeResponse>

// ---------------------------------------------------------------- release, cancel, replay

export const ReleaseRequest = z.strictObject({
  lease_token: LeaseToken.optional(),
  worker_id: WorkerId.optional(),
  delay_seconds: z.number().min(0).max(LIMITS.maxDelaySeconds).optional(),
})
export type ReleaseRequest = z.infer<typeof ReleaseRequest>

export const TransitionResponse = z.object({
  execution_id: ExecutionId,
  status: ExecutionStatus,
  attempt: z.number().int(),
  cancel_requested: z.boolean().optional(),
})
export type TransitionResponse = z.infer<typeof TransitionResponse>
