import { EngineError } from '@cuekit/engine'
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@cuekit/protocol'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'

/** A refusal raised by the HTTP layer itself (auth, validation, limits). */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CODES[code].message)
  }
}

export function errorBody(code: ErrorCode, message?: string, details?: unknown): ErrorBody {
  const error: ErrorBody['error'] = {
    code,
    message: message ?? ERROR_CODES[code].message,
    status: ERROR_CODES[code].status,
  }
  if (details !== undefined) error.details = details
  return { error }
}

export function validationError(issues: z.core.$ZodIssue[], where: string): HttpError {
  const details = issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message,
    code: i.code,
  }))
  const first = details[0]
  const message = first
    ? `${where}: ${first.path ? `${first.path}: ` : ''}${first.message}`
    : `${where} is invalid`
  return new HttpError('validation_error', message, details)
}

const STORAGE_ERRORS =
  /ECONNREFUSED|Connection is closed|MaxRetriesPerRequest|ETIMEDOUT|ENOTFOUND|CLUSTERDOWN|LOADING/

/** Maps anything thrown to the error code and message a client sees. */
export function toErrorResponse(err: unknown): {
  code: ErrorCode
  message: string
  details?: unknown
  headers?: Record<string, string>
} {
  if (err instanceof EngineError) return { code: err.code, message: err.message }
  if (err instanceof HttpError) {
    return {
      code: err.code,
      message: err.message,
      details: err.details,
      ...(err.headers ? { headers: err.headers } : {}),
    }
  }
  if (err instanceof HTTPException) {
    if (err.status === 413)
      return { code: 'payload_too_large', message: ERROR_CODES.payload_too_large.message }
    if (err.status === 400)
      return { code: 'bad_request', message: err.message || ERROR_CODES.bad_request.message }
  }
  if (
    err instanceof Error &&
    (STORAGE_ERRORS.test(err.message) || err.name === 'MaxRetriesPerRequestError')
  ) {
    return { code: 'storage_unavailable', message: ERROR_CODES.storage_unavailable.message }
  }
  return { code: 'internal_error', message: ERROR_CODES.internal_error.message }
}

/** The answer the error table gives `err`: its status, body and any headers (Retry-After, …). */
export function errorAnswer(err: unknown): {
  status: number
  body: ErrorBody
  headers?: Record<string, string>
} {
  const { code, message, details, headers } = toErrorResponse(err)
  return {
    status: ERROR_CODES[code].status,
    body: errorBody(code, message, details),
    ...(headers ? { headers } : {}),
  }
}

export function sendError(c: Context, err: unknown): Response {
  const { status, body, headers } = errorAnswer(err)
  for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v)
  return c.json(body, status as 400)
}
