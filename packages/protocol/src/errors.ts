import { z } from 'zod'

/**
 * Every error code Cuekit returns, with its HTTP status and a default message.
 * The engine returns these codes, the server maps them to HTTP with this table alone,
 * and the SDK maps them to typed errors, so a code means the same thing everywhere.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, message: 'The request could not be understood.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_schedule: { status: 400, message: 'The schedule is invalid.' },
  payload_override_required: { status: 400, message: 'This cue requires payload_override when fired.' },
  missing_required_payload_keys: { status: 400, message: 'The payload lacks keys this cue requires.' },
  metadata_too_large: { status: 400, message: 'metadata is larger than 10,240 bytes of JSON.' },
  invalid_alert_webhook_url: {
    status: 400,
    message:
      'The alert webhook URL is not an allowed http(s) URL (private and loopback addresses are refused).',
  },
  invalid_callback_url: {
    status: 400,
    message: 'on_failure.webhook is not an allowed http(s) URL (private and loopback addresses are refused).',
  },
  confirmation_required: {
    status: 400,
    message: 'This replaces a secret that receivers use: send X-Confirm-Destructive: true to confirm.',
  },
  unauthorized: { status: 401, message: 'A valid API key is required (Authorization: Bearer cue_sk_...).' },
  forbidden: { status: 403, message: 'This key may not perform this action.' },
  registration_closed: { status: 403, message: 'Open registration is disabled on this server.' },
  not_execution_owner: { status: 403, message: 'The lease on this execution belongs to another worker.' },
  not_found: { status: 404, message: 'No such resource.' },
  execution_not_found: { status: 404, message: 'No such execution.' },
  worker_not_found: { status: 404, message: 'No such worker.' },
  cue_not_found: { status: 404, message: 'No such cue.' },
  alert_not_found: { status: 404, message: 'No such alert.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed on this path.' },
  claim_failed: { status: 409, message: 'The execution is not claimable.' },
  lease_lost: {
    status: 409,
    message: 'The lease is no longer valid (expired, or the execution was claimed again).',
  },
  outcome_already_reported: { status: 409, message: 'A different outcome was already reported.' },
  execution_not_claiming: { status: 409, message: 'The execution is not leased to a worker.' },
  execution_cancelled: { status: 409, message: 'The execution was cancelled.' },
  execution_not_terminal: { status: 409, message: 'Only a terminal execution can be replayed.' },
  execution_not_cancellable: { status: 409, message: 'The execution has already finished.' },
  no_outcome: { status: 409, message: 'No outcome has been reported for this execution yet.' },
  invalid_state: { status: 409, message: 'The outcome is not in a state this action applies to.' },
  already_attested: {
    status: 409,
    message: 'Another session already live-claimed this execution (the first session token wins).',
  },
  duplicate_cue_name: { status: 409, message: 'A cue with this name already exists.' },
  cue_conflict: { status: 409, message: 'The cue changed while this update was applied; retry.' },
  duplicate_email: { status: 409, message: 'This email is already registered.' },
  payload_too_large: { status: 413, message: 'The request body exceeds the 1 MB limit.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  validation_error: { status: 422, message: 'The request is invalid.' },
  lease_token_required: { status: 422, message: 'This server requires lease_token on lease operations.' },
  idempotency_key_reused: {
    status: 422,
    message: 'This idempotency key was already used with a different request.',
  },
  invalid_cursor: { status: 422, message: 'The cursor is invalid or expired.' },
  invalid_timezone: { status: 422, message: 'The timezone is not a known IANA time zone.' },
  chain_cycle: {
    status: 422,
    message: 'on_success_fire would make a cycle: the cue it fires leads back to this cue.',
  },
  no_fields: { status: 422, message: 'The request changes nothing: send at least one field.' },
  webhook_url_not_allowed: {
    status: 422,
    message: 'The webhook URL resolves to a private, loopback, link-local, multicast or metadata address.',
  },
  rate_limited: { status: 429, message: 'Too many requests; retry after the time in Retry-After.' },
  internal_error: { status: 500, message: 'An internal error occurred.' },
  storage_unavailable: { status: 503, message: 'The storage backend is unreachable.' },
  shutting_down: { status: 503, message: 'The server is shutting down; retry on another instance.' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERROR_CODES
export const ErrorCode = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status
}

/** The body of every error response. `code` is a string so older clients survive new codes. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    status: z.number().int(),
    details: z.unknown().optional(),
  }),
})
export type ErrorBody = z.infer<typeof ErrorBody>
