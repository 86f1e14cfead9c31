import type {
  BatchHeartbeatRequest,
  BatchOutcomeRequest,
  ClaimByIdRequest,
  ClaimRequest,
  CueScheduleInput,
  CueStatus,
  EnqueueRequest,
  EvidenceRequest,
  ExecutionStatus,
  FireCueRequest,
  HeartbeatRequest,
  ListAlertsQuery,
  OutcomeRequest,
  PreviewCueRequest,
  ReleaseRequest,
  UpdateCueRequest,
  UpdateMeRequest,
  VerifyRequest,
  WorkerHeartbeatRequest,
} from '@cuekit/protocol'
import type { z } from 'zod'

// Request types are the schemas' *input* side: fields with server defaults stay optional.

/**
 * The body of `POST /v1/executions`.
 *
 * @example
 * ```ts
 * const input: EnqueueInput = { task: 'send-email', payload: { to: 'a@b.c' }, delay_seconds: 60 }
 * ```
 */
export type EnqueueInput = z.input<typeof EnqueueRequest>

/**
 * The body of `POST /v1/executions/claim`.
 *
 * @example
 * ```ts
 * const input: ClaimInput = { worker_id: 'w1', task: ['resize', 'thumbnail'], max: 8, wait_seconds: 20 }
 * ```
 */
export type ClaimInput = z.input<typeof ClaimRequest>

/**
 * The body of `POST /v1/executions/{id}/claim`.
 *
 * @example
 * ```ts
 * const input: ClaimByIdInput = { worker_id: 'w1', lease_seconds: 60 }
 * ```
 */
export type ClaimByIdInput = z.input<typeof ClaimByIdRequest>

/**
 * The body of `POST /v1/executions/{id}/heartbeat`.
 *
 * @example
 * ```ts
 * const input: HeartbeatInput = { lease_token: e.lease.token, extend_seconds: 120 }
 * ```
 */
export type HeartbeatInput = z.input<typeof HeartbeatRequest>

/**
 * One item of `POST /v1/executions/heartbeats`.
 *
 * @example
 * ```ts
 * const item: BatchHeartbeatInput = { execution_id: e.execution_id, lease_token: e.lease.token }
 * ```
 */
export type BatchHeartbeatInput = z.input<typeof BatchHeartbeatRequest>['leases'][number]

/**
 * The body of `POST /v1/executions/{id}/outcome`.
 *
 * @example
 * ```ts
 * const input: OutcomeInput = { lease_token: e.lease.token, success: false, error: 'SMTP 451', retry: true }
 * ```
 */
export type OutcomeInput = z.input<typeof OutcomeRequest>

/**
 * One item of `POST /v1/executions/outcomes`.
 *
 * @example
 * ```ts
 * const item: BatchOutcomeInput = { execution_id: e.execution_id, lease_token: e.lease.token, success: true }
 * ```
 */
export type BatchOutcomeInput = z.input<typeof BatchOutcomeRequest>['outcomes'][number]

/**
 * The body of `POST /v1/executions/{id}/release`.
 *
 * @example
 * ```ts
 * const input: ReleaseInput = { lease_token: e.lease.token, delay_seconds: 30 }
 * ```
 */
export type ReleaseInput = z.input<typeof ReleaseRequest>

/**
 * The body of `POST /v1/worker/heartbeat`.
 *
 * @example
 * ```ts
 * const input: WorkerHeartbeatInput = { worker_id: 'w1', handlers: ['send-email'] }
 * ```
 */
export type WorkerHeartbeatInput = z.input<typeof WorkerHeartbeatRequest>

/**
 * The query of `GET /v1/executions`; `status__in` may be a list.
 *
 * @example
 * ```ts
 * const query: ListExecutionsInput = { status__in: ['failed', 'cancelled'], task: 'send-email', limit: 100 }
 * ```
 */
export interface ListExecutionsInput {
  status?: ExecutionStatus
  status__in?: ExecutionStatus[] | string
  cue_id?: string
  task?: string
  worker_id?: string
  limit?: number
  cursor?: string | undefined
}

/**
 * The query of `GET /v1/leases`.
 *
 * @example
 * ```ts
 * const query: ListLeasesInput = { worker_id: 'w1', expiring_within_seconds: 30 }
 * ```
 */
export interface ListLeasesInput {
  worker_id?: string
  task?: string
  expiring_within_seconds?: number
  limit?: number
}

/**
 * The body of `POST /v1/cues` (CueAPI's nested shape).
 *
 * @example
 * ```ts
 * const input: CreateCueInput = {
 *   name: 'ping',
 *   schedule: { type: 'once', at: '2030-01-01T00:00:00Z' },
 *   callback: { url: 'https://example.com/hook' },
 * }
 * ```
 */
export type CreateCueInput = Omit<z.input<typeof UpdateCueRequest>, 'status' | 'name' | 'schedule'> & {
  name: string
  schedule: z.input<typeof CueScheduleInput>
}

/**
 * The body of `PATCH /v1/cues/{id}`: any subset; `status` pauses or resumes.
 *
 * @example
 * ```ts
 * const patch: UpdateCueInput = { description: 'weekly now', schedule: { type: 'recurring', cron: '0 9 * * 1' } }
 * ```
 */
export type UpdateCueInput = z.input<typeof UpdateCueRequest>

/**
 * The query of `GET /v1/cues`.
 *
 * @example
 * ```ts
 * const query: ListCuesInput = { status: 'active', limit: 100, offset: 100 }
 * ```
 */
export interface ListCuesInput {
  status?: CueStatus
  limit?: number
  offset?: number
}

/**
 * The body of `POST /v1/cues/{id}/fire`.
 *
 * @example
 * ```ts
 * const input: FireCueInput = { payload_override: { day: 'monday' }, idempotency_key: 'monday-rerun' }
 * ```
 */
export type FireCueInput = z.input<typeof FireCueRequest>

/**
 * The body of `POST /v1/cues/preview`: a schedule, checked as cue creation checks it.
 *
 * @example
 * ```ts
 * const input: PreviewCueInput = { schedule: { type: 'recurring', cron: '0 9 * * 1', timezone: 'Europe/Paris' }, count: 3 }
 * ```
 */
export type PreviewCueInput = z.input<typeof PreviewCueRequest>

/**
 * The body of `PATCH /v1/auth/me`: the tenant's own settings; fields left out keep their value.
 *
 * @example
 * ```ts
 * const input: UpdateMeInput = { require_lease_token: true }
 * ```
 */
export type UpdateMeInput = z.input<typeof UpdateMeRequest>

/**
 * The body of `PATCH /v1/executions/{id}/evidence`: fields given replace the recorded ones.
 *
 * @example
 * ```ts
 * const input: EvidenceInput = { external_id: 'msg_123', result_url: 'https://mail.example.com/msg_123' }
 * ```
 */
export type EvidenceInput = z.input<typeof EvidenceRequest>

/**
 * The body of `POST /v1/executions/{id}/verify`: `valid` defaults to true (approve).
 *
 * @example
 * ```ts
 * const input: VerifyInput = { valid: false, reason: 'the invoice total is wrong' }
 * ```
 */
export type VerifyInput = z.input<typeof VerifyRequest>

/**
 * The query of `GET /v1/alerts`.
 *
 * @example
 * ```ts
 * const input: ListAlertsInput = { alert_type: 'verification_failed', acknowledged: false, limit: 50 }
 * ```
 */
export type ListAlertsInput = {
  alert_type?: ListAlertsQuery['alert_type'] | 'consecutive_failure'
  cue_id?: string
  acknowledged?: boolean
  /** ISO 8601: alerts created at or after it. */
  since?: string
  limit?: number
  offset?: number
}
