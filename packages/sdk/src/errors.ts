import type { ErrorCode } from '@cuekit/protocol'

/**
 * Codes the SDK itself produces, next to the server's error codes: no answer (`connection_error`,
 * `timeout`), an answer that breaks the protocol (`invalid_response`), and the reasons the Worker
 * gives up (`worker_stopping`, `outcome_not_reported`).
 *
 * @example
 * ```ts
 * const retryLater = (e: CuekitError) => (['connection_error', 'timeout'] as ClientErrorCode[]).includes(e.code as ClientErrorCode)
 * ```
 */
export type ClientErrorCode =
  | 'connection_error'
  | 'timeout'
  | 'invalid_response'
  | 'worker_stopping'
  | 'outcome_not_reported'

/**
 * Every code a {@link CuekitError} may carry; unknown server codes pass through as strings.
 *
 * @example
 * ```ts
 * function describe(code: CuekitErrorCode) {
 *   return code === 'lease_lost' ? 'someone else has it now' : code
 * }
 * ```
 */
export type CuekitErrorCode = ErrorCode | ClientErrorCode | (string & {})

/**
 * What a {@link CuekitError} is built from.
 *
 * @example
 * ```ts
 * const init: CuekitErrorInit = { code: 'lease_lost', status: 409, executionId: 'exec_1' }
 * throw new LeaseLostError('the lease expired', init)
 * ```
 */
export interface CuekitErrorInit {
  code: CuekitErrorCode
  /** HTTP status; 0 when no response arrived. */
  status: number
  details?: unknown
  /** The execution the failed request was about, when there was one. */
  executionId?: string | undefined
  cause?: unknown
}

/**
 * The base of every error the SDK throws: an error answered by the server (`code` and `status`
 * as in `{"error": {...}}`), or a request that got no usable answer (`status` 0).
 *
 * @example
 * ```ts
 * import { CuekitError } from '@cuekit/sdk'
 *
 * try {
 *   await client.executions.get('exec_missing')
 * } catch (error) {
 *   if (error instanceof CuekitError) console.error(error.code, error.status, error.message)
 * }
 * ```
 */
export class CuekitError extends Error {
  override name = 'CuekitError'
  readonly code: CuekitErrorCode
  readonly status: number
  readonly details: unknown
  readonly executionId: string | undefined

  constructor(message: string, init: CuekitErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.code = init.code
    this.status = init.status
    this.details = init.details
    this.executionId = init.executionId
  }
}

/**
 * 400: the server could not understand the request (`bad_request`, `invalid_json`).
 *
 * @example
 * ```ts
 * if (error instanceof BadRequestError) console.error('malformed request:', error.message)
 * ```
 */
export class BadRequestError extends CuekitError {
  override name = 'BadRequestError'
}

/**
 * 401: the API key is missing, malformed or revoked.
 *
 * @example
 * ```ts
 * if (error instanceof UnauthorizedError) console.error('check CUEKIT_API_KEY')
 * ```
 */
export class UnauthorizedError extends CuekitError {
  override name = 'UnauthorizedError'
}

/**
 * 403: the key may not do this (`forbidden`, `registration_closed`).
 *
 * @example
 * ```ts
 * if (error instanceof ForbiddenError) console.error('this key cannot', error.message)
 * ```
 */
export class ForbiddenError extends CuekitError {
  override name = 'ForbiddenError'
}

/**
 * 404: no such execution, worker, cue or path.
 *
 * @example
 * ```ts
 * const record = await client.executions.get(id).catch((error) => {
 *   if (error instanceof NotFoundError) return null
 *   throw error
 * })
 * ```
 */
export class NotFoundError extends CuekitError {
  override name = 'NotFoundError'
}

/**
 * 409: the request conflicts with the execution's state. The subclasses name the cases a worker
 * must tell apart; other 409 codes (`execution_not_claiming`, `execution_not_terminal`, …) arrive as
 * this class.
 *
 * @example
 * ```ts
 * try {
 *   await client.executions.replay(id)
 * } catch (error) {
 *   if (error instanceof ConflictError && error.code === 'execution_not_terminal') console.log('still running')
 * }
 * ```
 */
export class ConflictError extends CuekitError {
  override name = 'ConflictError'
}

/**
 * 409 `lease_lost`: the lease token is stale (the lease expired, or the execution was claimed
 * again). Nothing changed on the server; stop working on the execution. Also thrown for 403
 * `not_execution_owner`, where another worker holds the lease.
 *
 * @example
 * ```ts
 * try {
 *   await client.executions.heartbeat(id, { lease_token })
 * } catch (error) {
 *   if (error instanceof LeaseLostError) abortWork()
 * }
 * ```
 */
export class LeaseLostError extends ConflictError {
  override name = 'LeaseLostError'
}

/**
 * 409 `outcome_already_reported`: a different outcome was already recorded for this lease.
 * (The same outcome reported again is not an error: the server answers with the first answer.)
 *
 * @example
 * ```ts
 * if (error instanceof OutcomeAlreadyReportedError) console.warn('outcome was already recorded')
 * ```
 */
export class OutcomeAlreadyReportedError extends ConflictError {
  override name = 'OutcomeAlreadyReportedError'
}

/**
 * 409 `execution_cancelled`: someone cancelled the execution; a worker learns it from a heartbeat.
 *
 * @example
 * ```ts
 * if (error instanceof ExecutionCancelledError) await client.executions.release(id, { lease_token })
 * ```
 */
export class ExecutionCancelledError extends ConflictError {
  override name = 'ExecutionCancelledError'
}

/**
 * 409 `claim_failed`: a claim by ID found the execution not claimable.
 *
 * @example
 * ```ts
 * try {
 *   await client.executions.claimById(id, { worker_id: 'w1' })
 * } catch (error) {
 *   if (error instanceof ClaimFailedError) console.log('someone else has it')
 * }
 * ```
 */
export class ClaimFailedError extends ConflictError {
  override name = 'ClaimFailedError'
}

/**
 * 413: the request body exceeds the server's 1 MB limit.
 *
 * @example
 * ```ts
 * if (error instanceof PayloadTooLargeError) console.error('store the payload elsewhere and send a reference')
 * ```
 */
export class PayloadTooLargeError extends CuekitError {
  override name = 'PayloadTooLargeError'
}

/**
 * 422: the request is invalid. `details` lists the problems (`[{path, message, code}]` from the
 * server's zod issues).
 *
 * @example
 * ```ts
 * try {
 *   await client.executions.enqueue({ task: '', payload: {} })
 * } catch (error) {
 *   if (error instanceof ValidationError) console.error(error.message, error.details)
 * }
 * ```
 */
export class ValidationError extends CuekitError {
  override name = 'ValidationError'
}

/**
 * 429: too many requests. `retryAfter` is the server's `Retry-After` in seconds (null if absent).
 *
 * @example
 * ```ts
 * if (error instanceof RateLimitError) await sleep((error.retryAfter ?? 1) * 1000)
 * ```
 */
export class RateLimitError extends CuekitError {
  override name = 'RateLimitError'
  readonly retryAfter: number | null

  constructor(message: string, init: CuekitErrorInit & { retryAfter: number | null }) {
    super(message, init)
    this.retryAfter = init.retryAfter
  }
}

/**
 * 500: the server failed; safe-to-repeat requests may be retried.
 *
 * @example
 * ```ts
 * if (error instanceof ServerError) console.error('server error', error.code)
 * ```
 */
export class ServerError extends CuekitError {
  override name = 'ServerError'
}

/**
 * 502/503/504: the server or its storage is unavailable for now (`storage_unavailable`,
 * `shutting_down`, a proxy without a backend). Retry with backoff.
 *
 * @example
 * ```ts
 * if (error instanceof ServerUnavailableError) console.warn('server unavailable, retrying later')
 * ```
 */
export class ServerUnavailableError extends CuekitError {
  override name = 'ServerUnavailableError'
}

/**
 * No response: the connection was refused or reset, DNS failed, or the request timed out
 * (`code` is `connection_error` or `timeout`; `status` is 0). The request may or may not have
 * reached the server.
 *
 * @example
 * ```ts
 * if (error instanceof ConnectionError) console.warn('cannot reach Cuekit:', error.cause)
 * ```
 */
export class ConnectionError extends CuekitError {
  override name = 'ConnectionError'
}

/**
 * The server answered, but not with what the protocol promises (not JSON, or a body that fails
 * the protocol schema). `details` holds the schema issues.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidResponseError) console.error('is baseUrl a Cuekit server?', error.details)
 * ```
 */
export class InvalidResponseError extends CuekitError {
  override name = 'InvalidResponseError'
}

const CONFLICTS: Record<string, typeof ConflictError> = {
  lease_lost: LeaseLostError,
  not_execution_owner: LeaseLostError,
  outcome_already_reported: OutcomeAlreadyReportedError,
  execution_cancelled: ExecutionCancelledError,
  claim_failed: ClaimFailedError,
}

/**
 * Builds the typed error for an error answer (`{"error": {code, message, status, details}}`).
 * The code picks the class where it names one; otherwise the HTTP status does.
 *
 * @example
 * ```ts
 * const error = errorFromBody({ code: 'lease_lost', message: 'gone', status: 409 })
 * error instanceof LeaseLostError // true
 * ```
 */
export function errorFromBody(
  body: { code: string; message: string; status: number; details?: unknown },
  extra: { retryAfter?: number | null; executionId?: string | undefined } = {},
): CuekitError {
  const init: CuekitErrorInit = {
    code: body.code,
    status: body.status,
    details: body.details,
    executionId: extra.executionId,
  }
  const Conflict = CONFLICTS[body.code]
  if (Conflict) return new Conflict(body.message, init)
  switch (body.status) {
    case 400:
      return new BadRequestError(body.message, init)
    case 401:
      return new UnauthorizedError(body.message, init)
    case 403:
      return new ForbiddenError(body.message, init)
    case 404:
      return new NotFoundError(body.message, init)
    case 409:
      return new ConflictError(body.message, init)
    case 413:
      return new PayloadTooLargeError(body.message, init)
    case 422:
      return new ValidationError(body.message, init)
    case 429:
      return new RateLimitError(body.message, { ...init, retryAfter: extra.retryAfter ?? null })
    case 502:
    case 503:
    case 504:
      return new ServerUnavailableError(body.message, init)
  }
  if (body.status >= 500) return new ServerError(body.message, init)
  return new CuekitError(body.message, init)
}

/**
 * True for errors worth retrying with backoff: no response at all, 429, 5xx. Only repeat a
 * request that is safe to repeat (reads, outcome reports and heartbeats with a lease token,
 * enqueues with an idempotency key).
 *
 * @example
 * ```ts
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     return await client.executions.get(id)
 *   } catch (error) {
 *     if (!isRetryable(error) || attempt === 3) throw error
 *   }
 * }
 * ```
 */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ConnectionError ||
    error instanceof RateLimitError ||
    error instanceof ServerUnavailableError ||
    error instanceof ServerError
  )
}
