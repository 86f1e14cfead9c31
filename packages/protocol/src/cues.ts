import { z } from 'zod'
import { TaskName, Timestamp } from './common.ts'
import { ExecutionRecord, ExecutionSummary } from './executions.ts'
import { LIMITS } from './limits.ts'
import { CueStats, VerificationMode } from './outcomes.ts'

/**
 * Cues: schedules that fire executions (docs/architecture.md#http-contract). The shapes are CueAPI's, so its SDKs, CLI and
 * MCP server parse our answers; native fields (`task`, `retry.backoff_seconds`) are additive.
 */

export const CUE_LIMITS = {
  nameMaxLength: 255,
  descriptionMaxLength: 2000,
  maxRetryAttempts: 10,
  defaultRetryAttempts: 3,
  defaultBackoffMinutes: [1, 5, 15],
  /** replay_all_missed fires at most this many missed ticks after downtime. */
  maxReplayedTicks: 100,
  defaultTimeoutSeconds: 30,
  maxTimeoutSeconds: 3600,
  defaultOutcomeDeadlineSeconds: 300,
  maxRecentExecutions: 100,
  maxHeaders: 50,
  urlMaxLength: 2048,
  /** `POST /v1/cues/preview` lists at most this many upcoming runs. */
  maxPreviewRuns: 20,
  defaultPreviewRuns: 5,
} as const

/** Every task name starting with this is internal (the webhook dispatcher's); workers never see one. */
export const INTERNAL_TASK_PREFIX = '@'

/** The internal task webhook executions are queued under; only the built-in dispatcher claims it. */
export const WEBHOOK_TASK = '@webhook'
/** Internal: deliver an alert to the tenant's alert webhook (payload `{alert_id}`). */
export const ALERT_TASK = '@alert'
/** Internal: post a cue's `cue.failed` to its on_failure.webhook (payload `{cue_id, execution_id}`). */
export const NOTIFY_TASK = '@notify'
/** Internal: mail a cue's failure to the tenant (payload `{cue_id, execution_id}`). */
export const EMAIL_TASK = '@email'

export const CueStatus = z.enum(['active', 'paused', 'completed', 'failed'])
export type CueStatus = z.infer<typeof CueStatus>

export const CueTransport = z.enum(['webhook', 'worker'])
export type CueTransport = z.infer<typeof CueTransport>

export const CatchUpPolicy = z.enum(['skip_missed', 'run_once_if_missed', 'replay_all_missed'])
export type CatchUpPolicy = z.infer<typeof CatchUpPolicy>

/** The CLI sends `replay_all`; both spellings mean replay_all_missed. */
const CatchUpInput = z
  .enum(['skip_missed', 'run_once_if_missed', 'replay_all_missed', 'replay_all'])
  .transform((v): CatchUpPolicy => (v === 'replay_all' ? 'replay_all_missed' : v))

export const CueMethod = z.enum(['POST', 'GET', 'PUT', 'PATCH'])
export type CueMethod = z.infer<typeof CueMethod>

// Header names are HTTP tokens; values must not smuggle a line break into the request.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const HEADER_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade'])

const Headers = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name')
      .refine(
        (h) => !FORBIDDEN_HEADERS.has(h.toLowerCase()),
        'is set by the dispatcher and cannot be overridden',
      ),
    z.string().max(4000).regex(HEADER_VALUE, 'must not contain control characters'),
  )
  .refine((h) => Object.keys(h).length <= CUE_LIMITS.maxHeaders, `at most ${CUE_LIMITS.maxHeaders} headers`)

const Url = z
  .string()
  .max(CUE_LIMITS.urlMaxLength)
  .refine((s) => {
    try {
      const u = new URL(s)
      return u.protocol === 'http:' || u.protocol === 'https:'
    } catch {
      return false
    }
  }, 'must be an absolute http:// or https:// URL')

/** A timestamp a client sends; a naive one (no offset) is taken as UTC, as CueAPI does. */
export const CueTimestamp = z.iso
  .datetime({ offset: true, local: true })
  .transform((s) => (/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`))

export const CueScheduleInput = z.strictObject({
  type: z.enum(['recurring', 'once']),
  cron: z.string().min(1).max(200).nullable().optional(),
  at: CueTimestamp.nullable().optional(),
  timezone: z.string().min(1).max(100).default('UTC'),
})
export type CueScheduleInput = z.infer<typeof CueScheduleInput>

export const CueCallbackInput = z.strictObject({
  url: Url.nullable().optional(),
  method: CueMethod.default('POST'),
  headers: Headers.nullable()
    .optional()
    .transform((h) => h ?? {}),
})
export type CueCallbackInput = z.infer<typeof CueCallbackInput>

const Backoff = z
  .array(z.number().min(0).max(LIMITS.maxBackoffSeconds))
  .min(1)
  .max(CUE_LIMITS.maxRetryAttempts)

export const CueRetryInput = z
  .strictObject({
    max_attempts: z
      .number()
      .int()
      .min(1)
      .max(CUE_LIMITS.maxRetryAttempts)
      .default(CUE_LIMITS.defaultRetryAttempts),
    backoff_minutes: z
      .array(
        z
          .number()
          .min(0)
          .max(LIMITS.maxBackoffSeconds / 60),
      )
      .min(1)
      .max(CUE_LIMITS.maxRetryAttempts)
      .optional(),
    /** Native: seconds, fractions allowed (sub-minute retries). */
    backoff_seconds: Backoff.optional(),
  })
  .refine((r) => r.backoff_minutes === undefined || r.backoff_seconds === undefined, {
    message: 'send backoff_minutes or backoff_seconds, not both',
    path: ['backoff_seconds'],
  })
export type CueRetryInput = z.infer<typeof CueRetryInput>

export const CueDelivery = z.strictObject({
  timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(CUE_LIMITS.maxTimeoutSeconds)
    .default(CUE_LIMITS.defaultTimeoutSeconds),
  outcome_deadline_seconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(CUE_LIMITS.defaultOutcomeDeadlineSeconds),
})
export type CueDelivery = z.infer<typeof CueDelivery>

export const CueOnFailure = z.object({
  email: z.boolean().default(true),
  webhook: z.string().max(CUE_LIMITS.urlMaxLength).nullable().default(null),
  pause: z.boolean().default(false),
})
export type CueOnFailure = z.infer<typeof CueOnFailure>

export const CueVerification = z.object({
  mode: VerificationMode,
  /**
   * CueAPI hosted names this field without defining how it is evaluated: stored and echoed, never
   * evaluated (docs/outcomes.md#verification).
   */
  required_assertions: z.array(z.string().max(200)).max(20).optional(),
})
export type CueVerification = z.infer<typeof CueVerification>

/** CueAPI's alert settings: failures in a row before a `consecutive_failures` alert (default 3). */
export const CueAlerts = z.looseObject({
  consecutive_failures: z.number().int().min(1).max(100).optional(),
  /** Accepted and echoed for CueAPI compatibility; Cuekit raises no missed_window alert. */
  missed_window_multiplier: z.number().int().min(1).max(10).optional(),
})
export type CueAlerts = z.infer<typeof CueAlerts>

const Payload = z.record(z.string(), z.unknown())

/**
 * The fields of a cue that a client sets. Hosted-only CueAPI fields (`delivery`, `alerts`,
 * `on_failure`, `verification`, chaining) are stored and echoed; `delivery.timeout_seconds` is
 * also the webhook timeout.
 */
const CueFields = {
  name: z.string().min(1).max(CUE_LIMITS.nameMaxLength),
  description: z.string().max(CUE_LIMITS.descriptionMaxLength).nullable().optional(),
  schedule: CueScheduleInput,
  transport: CueTransport.default('webhook'),
  callback: CueCallbackInput.nullable().optional(),
  payload: Payload.default({}),
  /** Native: the task executions are queued under; default `payload.task`, else `default`. */
  task: TaskName.nullable().optional(),
  retry: CueRetryInput.optional(),
  catch_up: CatchUpInput.default('run_once_if_missed'),
  delivery: CueDelivery.nullable().optional(),
  alerts: CueAlerts.nullable().optional(),
  on_failure: CueOnFailure.nullable().optional(),
  verification: CueVerification.nullable().optional(),
  on_success_fire: z.string().max(64).nullable().optional(),
  require_payload_override: z.boolean().optional(),
  required_payload_keys: z.array(z.string().min(1).max(200)).max(50).optional(),
}

/**
 * The MCP server's flat create body (`{name, cron?, at?, callback_url?, worker?, timezone?, ...}`)
 * becomes the nested shape; a body that has `schedule` is left alone.
 */
function unflatten(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input
  const body = input as Record<string, unknown>
  if ('schedule' in body || !('cron' in body || 'at' in body)) return input
  const { cron, at, timezone, callback_url, worker, ...rest } = body
  const out: Record<string, unknown> = {
    ...rest,
    schedule: {
      type: at !== undefined && at !== null ? 'once' : 'recurring',
      ...(cron !== undefined ? { cron } : {}),
      ...(at !== undefined ? { at } : {}),
      ...(timezone !== undefined ? { timezone } : {}),
    },
  }
  if (worker === true) out.transport = 'worker'
  else if (worker !== undefined && worker !== false) out.worker = worker
  if (callback_url !== undefined) out.callback = { url: callback_url }
  return out
}

/** `POST /v1/cues`: CueAPI's nested shape, or the MCP server's flat one. */
export const CreateCueRequest = z.preprocess(unflatten, z.strictObject(CueFields))
export type CreateCueRequest = z.output<typeof CreateCueRequest>

/** `PATCH /v1/cues/{id}`: any subset; `status` pauses (`paused`) or resumes (`active`). */
export const UpdateCueRequest = z.strictObject({
  name: CueFields.name.optional(),
  description: CueFields.description,
  status: z.enum(['active', 'paused']).optional(),
  schedule: CueScheduleInput.optional(),
  transport: CueTransport.optional(),
  callback: CueFields.callback,
  payload: Payload.optional(),
  task: CueFields.task,
  retry: CueRetryInput.optional(),
  catch_up: CatchUpInput.optional(),
  delivery: CueFields.delivery,
  alerts: CueFields.alerts,
  on_failure: CueFields.on_failure,
  verification: CueFields.verification,
  on_success_fire: CueFields.on_success_fire,
  require_payload_override: CueFields.require_payload_override,
  required_payload_keys: CueFields.required_payload_keys,
})
export type UpdateCueRequest = z.output<typeof UpdateCueRequest>

/**
 * `POST /v1/cues/preview`: the runs a schedule would fire next, checked exactly as cue creation
 * checks it (the same errors), so a form can show them as its author types.
 */
export const PreviewCueRequest = z.strictObject({
  schedule: CueScheduleInput,
  count: z.number().int().min(1).max(CUE_LIMITS.maxPreviewRuns).default(CUE_LIMITS.defaultPreviewRuns),
})
export type PreviewCueRequest = z.output<typeof PreviewCueRequest>

export const PreviewCueResponse = z.object({
  /** The zone the schedule is read in (the request's, or UTC). */
  timezone: z.string(),
  /** Upcoming fire times, ascending; one for a one-time schedule, fewer when the cron runs out. */
  next_runs: z.array(Timestamp),
})
export type PreviewCueResponse = z.infer<typeof PreviewCueResponse>

// ---------------------------------------------------------------- records

export const CueSchedule = z.object({
  type: z.enum(['recurring', 'once']),
  /** Present only for recurring cues. */
  cron: z.string().optional(),
  /** Present only for one-time cues. */
  at: Timestamp.optional(),
  timezone: z.string(),
})
export type CueSchedule = z.infer<typeof CueSchedule>

export const CueCallback = z.object({
  url: z.string().nullable(),
  method: CueMethod,
  /** Always an object: CueAPI's SDK rejects null. */
  headers: z.record(z.string(), z.string()),
})
export type CueCallback = z.infer<typeof CueCallback>

export const CueRetry = z.object({
  max_attempts: z.number().int(),
  backoff_minutes: z.array(z.number()),
  backoff_seconds: z.array(z.number()),
})
export type CueRetry = z.infer<typeof CueRetry>

export const CueRecord = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: CueStatus,
  transport: CueTransport,
  schedule: CueSchedule,
  callback: CueCallback,
  payload: Payload,
  task: z.string().nullable(),
  retry: CueRetry,
  catch_up: CatchUpPolicy,
  delivery: CueDelivery,
  alerts: z.record(z.string(), z.unknown()).nullable(),
  on_failure: CueOnFailure.nullable(),
  verification: CueVerification.nullable(),
  on_success_fire: z.string().nullable(),
  require_payload_override: z.boolean(),
  required_payload_keys: z.array(z.string()),
  next_run: Timestamp.nullable(),
  last_run: Timestamp.nullable(),
  run_count: z.number().int(),
  fired_count: z.number().int(),
  warning: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type CueRecord = z.infer<typeof CueRecord>

export const GetCueQuery = z.strictObject({
  execution_limit: z.coerce.number().int().min(1).max(CUE_LIMITS.maxRecentExecutions).default(10),
  execution_offset: z.coerce.number().int().min(0).max(CUE_LIMITS.maxRecentExecutions).default(0),
})
export type GetCueQuery = z.infer<typeof GetCueQuery>

/** `GET /v1/cues/{id}`: the cue, its most recent executions (newest first) and its last 7 days. */
export const CueDetail = CueRecord.extend({
  executions: z.array(ExecutionSummary),
  execution_total: z.number().int(),
  execution_limit: z.number().int(),
  execution_offset: z.number().int(),
  stats: CueStats,
})
export type CueDetail = z.infer<typeof CueDetail>

export const ListCuesQuery = z.strictObject({
  status: CueStatus.optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxListLimit).default(50),
  offset: z.coerce.number().int().min(0).default(0),
})
export type ListCuesQuery = z.infer<typeof ListCuesQuery>

export const ListCuesResponse = z.object({
  cues: z.array(CueRecord),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
})
export type ListCuesResponse = z.infer<typeof ListCuesResponse>

// ---------------------------------------------------------------- fire

export const FireCueRequest = z.strictObject({
  payload_override: Payload.nullable().optional(),
  /** `merge` (default): the override's keys win over the cue's payload; `replace`: the override alone. */
  merge_strategy: z.enum(['merge', 'replace']).default('merge'),
  /** Deliver later; a past time means now. */
  send_at: CueTimestamp.nullable().optional(),
  /** The same key within 24 h returns the execution it first created. */
  idempotency_key: z.string().min(1).max(LIMITS.idempotencyKeyMaxLength).nullable().optional(),
  /** Accepted for CueAPI compatibility; not evaluated. */
  exit_criteria: z.array(z.string().max(500)).max(20).optional(),
})
export type FireCueRequest = z.output<typeof FireCueRequest>

/** The execution a fire created (`id` and `execution_id` both carry its ID). */
export const FireCueResponse = ExecutionRecord
export type FireCueResponse = z.infer<typeof FireCueResponse>

// ---------------------------------------------------------------- webhook secret

export const WebhookSecretResponse = z.object({ webhook_secret: z.string() })
export type WebhookSecretResponse = z.infer<typeof WebhookSecretResponse>

export const RegenerateWebhookSecretResponse = z.object({
  webhook_secret: z.string(),
  previous_secret_revoked: z.literal(true),
})
export type RegenerateWebhookSecretResponse = z.infer<typeof RegenerateWebhookSecretResponse>

/** The body every webhook delivery carries, signed as `pythonJsonDumps(body)`. */
export interface WebhookBody {
  attempt: number
  cue_id: string
  execution_id: string
  name: string
  payload: unknown
  scheduled_for: string
}
