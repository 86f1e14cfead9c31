import { createHmac } from 'node:crypto'
import { pythonJsonDumps } from './webhook.ts'

/*
 * Node only (node:crypto), so it is a subpath of its own (`@cuekit/protocol/webhook-signature`)
 * and never reaches the dashboard's browser bundle, which takes the package's main entry.
 */

/**
 * A webhook body as signed or verified: the raw text or bytes (signed byte for byte), or a parsed
 * JSON value (serialised as Python's `json.dumps(body, sort_keys=True)` writes it, as the sender did).
 *
 * @example
 * ```ts
 * const raw: SignedBody = '{"execution_id": "exec_1"}'
 * const parsed: SignedBody = { execution_id: 'exec_1' }
 * ```
 */
export type SignedBody = string | Uint8Array | Record<string, unknown> | unknown[]

/**
 * The bytes a signature covers for `body`.
 *
 * @example
 * ```ts
 * webhookBodyBytes({ b: 1, a: 'é' }).toString() // '{"a": "\\u00e9", "b": 1}'
 * ```
 */
export function webhookBodyBytes(body: SignedBody): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return Buffer.from(pythonJsonDumps(body), 'utf8')
}

/**
 * The `X-CueAPI-Signature` value of a delivery (docs/architecture.md#webhooks): `v1=` and the hex HMAC-SHA256, keyed
 * with the tenant's `whsec_` secret, of `"<timestamp>." + body`. The server signs deliveries with
 * it and the SDK's `verifyWebhook` recomputes it, so both agree by construction.
 *
 * @example
 * ```ts
 * import { signWebhook } from '@cuekit/protocol/webhook-signature'
 *
 * const timestamp = Math.floor(Date.now() / 1000)
 * signWebhook('whsec_test', timestamp, '{"execution_id": "exec_1"}') // 'v1=…64 hex digits'
 * ```
 */
export function signWebhook(secret: string, timestamp: number | string, body: SignedBody): string {
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), webhookBodyBytes(body)])
  return `v1=${createHmac('sha256', secret).update(signed).digest('hex')}`
}
