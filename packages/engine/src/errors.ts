import { ERROR_CODES, type ErrorCode, isErrorCode } from '@cuekit/protocol'

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

/** Throws when a script reply starts with an error code instead of 'ok'. */
export function check(reply: unknown): asserts reply is [string, ...unknown[]] {
  if (!Array.isArray(reply)) throw new Error('unexpected script reply')
  const code = reply[0]
  if (code === 'ok') return
  if (isErrorCode(code)) throw new EngineError(code)
  throw new Error(`unexpected script reply code: ${String(code)}`)
}

/** A code a script answered for one item of a batch. */
export function asCode(code: string): ErrorCode {
  if (isErrorCode(code)) return code
  throw new Error(`unexpected script reply code: ${code}`)
}
