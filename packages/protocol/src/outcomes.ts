import { z } from 'zod'
import { ExecutionId, InputTimestamp, Timestamp } from './common.ts'
import { ALERT_TYPES, OUTCOME_STATE, VERIFICATION_MODES } from './lifecycle.ts'

/**
 * Outcomes (CueAPI's model): delivery is not an outcome. A webhook execution's status follows its
 * delivery and its handler's business outcome is reported beside it; a worker execution's outcome
 * is its lease report. See docs/outcomes.md.
 */

/** What is known of an execution's outcome, null before any: each state in lifecycle.ts. */
export const OutcomeState = z.enum(OUTCOME_STATE)
export type OutcomeState = z.infer<typeof OutcomeState>

/** A cue's verification policy for the outcomes of its executions. */
export const VerificationMode = z.enum(VERIFICATION_MODES)
export type VerificationMode = z.infer<typeof VerificationMode>

/** Why an execution exists; `api` for one enqueued through the API. */
export const TriggeredBy = z.enum(['scheduled', 'manual_fire', 'replay', 'chain', 'api'])
export type TriggeredBy = z.infer<typeof TriggeredBy>

export const OUTCOME_LIMITS = {
  resultMaxLength: 2000,
  errorMaxLength: 2000,
  metadataMaxBytes: 10_240,
  externalIdMaxLength: 255,
  resultUrlMaxLength: 2048,
  resultRefMaxLength: 255,
  resultTypeMaxLength: 50,
  summaryMaxLength: 500,
  maxArtifacts: 100,
  reasonMaxLength: 500,
  /** A live-claim's session token (CueAPI sets no limit; stored only as a digest). */
  sessionTokenMaxLength: 1000,
  /** How long an alert of one type for one cue or execution suppresses repeats. */
  alertDedupSeconds: 300,
  defaultConsecutiveFailures: 3,
  maxChainDepth: 10,
} as const

/** Evidence a report (or a later PATCH) carries, CueAPI's fields and limits. */
export const EvidenceFields = {
  external_id: z.string().min(1).max(OUTCOME_LIMITS.externalIdMaxLength).nullable().optional(),
  result_url: z
    .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
    .max(OUTCOME_LIMITS.resultUrlMaxLength)
    .nullable()
    .optional(),
  result_ref: z.string().max(OUTCOME_LIMITS.resultRefMaxLength).nullable().optional(),
  result_type: z.string().max(OUTCOME_LIMITS.resultTypeMaxLength).nullable().optional(),
  summary: z.string().max(OUTCOME_LIMITS.summaryMaxLength).nullable().optional(),
  artifacts: z.array(z.unknown()).max(OUTCOME_LIMITS.maxArtifacts).nullable().optional(),
}

/** An execution's outcome as recorded: the report and its evidence (CueAPI's SDK model). */
export const ExecutionOutcome = z.object({
  success: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  recorded_at: Timestamp,
  external_id: z.string().nullable().optional(),
  result_url: z.string().nullable().optional(),
  result_ref: z.string().nullable().optional(),
  result_type: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  artifacts: z.array(z.unknown()).nullable().optional(),
  /** `valid` / `invalid` once a require_* policy or a hand verification decided; else null. */
  validation_state: z.enum(['valid', 'invalid']).nullable().optional(),
})
export type ExecutionOutcome = z.infer<typeof ExecutionOutcome>

/** `PATCH /v1/executions/{id}/evidence`: adds or replaces evidence; re-runs the cue's policy. */
export const EvidenceRequest = z.strictObject({
  ...EvidenceFields,
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
})
export type EvidenceRequest = z.infer<typeof EvidenceRequest>

export const EvidenceResponse = z.object({
  execution_id: ExecutionId,
  outcome_state: OutcomeState.nullable(),
  evidence_updated: z.literal(true),
})
export type EvidenceResponse = z.infer<typeof EvidenceResponse>

/** `POST /v1/executions/{id}/verify`: approve (`valid`, the default) or reject an outcome. */
export const VerifyRequest = z.strictObject({
  valid: z.boolean().default(true),
  reason: z.string().max(OUTCOME_LIMITS.reasonMaxLength).nullable().optional(),
})
export type VerifyRequest = z.output<typeof VerifyRequest>

export const VerifyResponse = z.object({
  execution_id: ExecutionId,
  outcome_state: OutcomeState,
  valid: z.boolean(),
  reason: z.string().nullable(),
})
export type VerifyResponse = z.infer<typeof VerifyResponse>

export const VerificationPendingResponse = z.object({
  execution_id: ExecutionId,
  outcome_state: z.literal('verification_pending'),
})
export type VerificationPendingResponse = z.infer<typeof VerificationPendingResponse>

/** `POST /v1/executions/{id}/live-claim`: a session attests it runs the execution (first wins). */
export const LiveClaimRequest = z.strictObject({
  session_token: z.string().min(1).max(OUTCOME_LIMITS.sessionTokenMaxLength),
})
export type LiveClaimRequest = z.infer<typeof LiveClaimRequest>

export const LiveClaimResponse = z.object({
  attested: z.literal(true),
  execution_id: ExecutionId,
  /** When the first live-claim was recorded (the store's time). */
  live_claimed_at: Timestamp,
})
export type LiveClaimResponse = z.infer<typeof LiveClaimResponse>

// ---------------------------------------------------------------- alerts

export const AlertType = z.enum(ALERT_TYPES)
export type AlertType = z.infer<typeof AlertType>

export const Alert = z.object({
  id: z.string(),
  alert_type: AlertType,
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  cue_id: z.string().nullable(),
  execution_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  acknowledged: z.boolean(),
  acknowledged_at: Timestamp.nullable(),
  created_at: Timestamp,
})
export type Alert = z.infer<typeof Alert>

const QueryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

export const ListAlertsQuery = z.strictObject({
  /** CueAPI's hosted docs spell one type in the singular: accepted too. */
  alert_type: z
    .preprocess((v) => (v === 'consecutive_failure' ? 'consecutive_failures' : v), AlertType)
    .optional(),
  cue_id: z.string().min(1).max(64).optional(),
  acknowledged: QueryBool.optional(),
  /** Alerts created at or after this instant. */
  since: InputTimestamp.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
})
export type ListAlertsQuery = z.output<typeof ListAlertsQuery>

export const ListAlertsResponse = z.object({
  alerts: z.array(Alert),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
})
export type ListAlertsResponse = z.infer<typeof ListAlertsResponse>

/** The body POSTed to a tenant's alert webhook (CueAPI's, serialised with sorted keys). */
export const AlertWebhookBody = z.object({
  alert_id: z.string(),
  alert_type: AlertType,
  severity: z.string(),
  message: z.string(),
  execution_id: z.string().nullable(),
  cue_id: z.string().nullable(),
  created_at: Timestamp,
  metadata: z.record(z.string(), z.unknown()),
})
export type AlertWebhookBody = z.infer<typeof AlertWebhookBody>

/** The body POSTed to a cue's `on_failure.webhook` (CueAPI's `cue.failed`). */
export const CueFailedBody = z.object({
  event: z.literal('cue.failed'),
  cue_id: z.string(),
  cue_name: z.string(),
  execution_id: z.string(),
  attempts: z.number().int(),
  last_http_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  failed_at: Timestamp,
  dashboard_url: z.string().nullable(),
})
export type CueFailedBody = z.infer<typeof CueFailedBody>

// ---------------------------------------------------------------- cue stats, usage

/** A cue's last 7 days (UTC days), on `GET /v1/cues/{id}`. */
export const CueStats = z.object({
  period_days: z.number().int(),
  executions: z.number().int(),
  successes: z.number().int(),
  failures: z.number().int(),
  /** Executions that were never claimed (worker) or answered (webhook) within their deadline. */
  misses: z.number().int(),
  /** successes / (successes + failures), null without either. */
  success_rate: z.number().nullable(),
  /** Median time from first claim to the end of the execution, over its recent executions. */
  p50_duration_ms: z.number().nullable(),
})
export type CueStats = z.infer<typeof CueStats>

/** `GET /v1/usage`, in CueAPI's shape: a self-hosted plan has no limits. */
export const UsageResponse = z.object({
  plan: z.literal('self-hosted'),
  billing_period: z.object({ start: Timestamp, end: Timestamp, days_remaining: z.number().int() }),
  period: z.object({ start: Timestamp, end: Timestamp }),
  cues: z.object({
    used: z.number().int(),
    active: z.number().int(),
    limit: z.null(),
    remaining: z.null(),
    percent_used: z.null(),
  }),
  executions: z.object({
    used: z.number().int(),
    limit: z.null(),
    remaining: z.null(),
    percent_used: z.null(),
    percentage: z.null(),
    projected_month_end: z.number().int(),
    will_exceed_limit: z.literal(false),
  }),
  outcomes: z.object({ reported: z.number().int(), succeeded: z.number().int(), failed: z.number().int() }),
  rate_limit: z.object({ requests_per_minute: z.number().int().nullable(), current_usage: z.number().int() }),
  upgrade_url: z.null(),
})
export type UsageResponse = z.infer<typeof UsageResponse>
