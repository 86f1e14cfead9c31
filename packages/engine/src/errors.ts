import { ERROR_CODES, type ErrorCode, isErrorCode } from '@cuekit/protocol'
import { ERROR_REPLY } from './layouts/index.ts'

/** A refused transition. The server maps `code` to HTTP through the protocol's table. */
export class EngineError extends Error {
  override readonly name = 'EngineError'
  constructor(
    readonly code: ErrorCode,
    message?: string,
  ) {
    super(message ?? ERROR_CODES[code].message)
  }
}

/** Messages for error replies that name what they refer to (ERROR_REPLY.detail). */
const DETAILED: Partial<Record<ErrorCode, (detail: string) => string>> = {
  idempotency_key_reused: (key) =>
    `Idempotency key "${key}" was already used with a different request; send the same request ` +
    'again to get its execution, or use a new key.',
  invalid_state: (state) =>
    `The outcome is ${state || 'not set'}, which this action does not apply to ` +
    '(verify: reported_success or verification_pending; verification-pending: not reported_failure).',
}

/** Throws when a script reply starts with an error code instead of 'ok'. */
export function check(reply: unknown): asserts reply is [string, ...unknown[]] {
  if (!Array.isArray(reply)) throw new Error('unexpected script reply')
  const code = reply[ERROR_REPLY.at.code]
  if (code === 'ok') return
  if (isErrorCode(code)) {
    const detail = reply[ERROR_REPLY.at.detail]
    const message = detail === undefined ? undefined : DETAILED[code]?.(String(detail))
    throw new EngineError(code, message)
  }
  throw new Error(`unexpected script reply code: ${String(code)}`)
}

/** A code a script answered for one item of a batch. */
export function asCode(code: string): ErrorCode {
  if (isErrorCode(code)) return code
  throw new Error(`unexpected script reply code: ${code}`)
}
