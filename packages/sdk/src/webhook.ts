import { timingSafeEqual } from 'node:crypto'
import { type SignedBody, signWebhook as sign, webhookBodyBytes } from '@cuekit/protocol/webhook-signature'

/**
 * Request headers as frameworks hand them over: a fetch `Headers`, or Node's header object.
 *
 * @example
 * ```ts
 * const headers: WebhookHeaders = request.headers // Request (fetch), IncomingMessage (node:http), Express
 * ```
 */
export type WebhookHeaders =
  | Headers
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>

/**
 * A webhook body: the raw bytes as received (verified byte for byte), or an already-parsed JSON
 * object (re-serialised the way Python's `json.dumps(body, sort_keys=True)` writes it, as CueAPI
 * receivers do).
 *
 * @example
 * ```ts
 * const body: WebhookBody = await request.text() // best: the raw text
 * const parsed: WebhookBody = req.body // also fine when a framework already parsed the JSON
 * ```
 */
export type WebhookBody = SignedBody

/**
 * Options of {@link verifyWebhook}.
 *
 * @example
 * ```ts
 * verifyWebhook(secret, headers, body, { toleranceSeconds: 60, now: () => clock.now() })
 * ```
 */
export interface VerifyWebhookOptions {
  /** Accepted clock difference in seconds, either way. Default 300 (±5 minutes). */
  toleranceSeconds?: number
  /** The current time in ms, for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * Why a webhook failed verification (or `ok`).
 *
 * @example
 * ```ts
 * const check: WebhookCheck = checkWebhook(secret, req.headers, rawBody)
 * if (!check.ok) console.warn('webhook refused:', check.reason)
 * ```
 */
export type WebhookCheck =
  | { ok: true; timestamp: number }
  | {
      ok: false
      reason:
        | 'missing_signature'
        | 'missing_timestamp'
        | 'invalid_timestamp'
        | 'timestamp_out_of_tolerance'
        | 'signature_mismatch'
    }

const SIGNATURE = 'x-cueapi-signature'
const TIMESTAMP = 'x-cueapi-timestamp'

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined
  }
  const record = headers as Record<string, string | string[] | undefined>
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue
    return Array.isArray(value) ? value.join(',') : value
  }
  return undefined
}

/**
 * Verifies a webhook like {@link verifyWebhook} and says why it failed.
 *
 * @example
 * ```ts
 * import { checkWebhook } from '@cuekit/sdk'
 *
 * const check = checkWebhook(process.env.WEBHOOK_SECRET!, req.headers, rawBody)
 * if (!check.ok) return res.status(401).send(check.reason)
 * ```
 */
export function checkWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: WebhookBody,
  options: VerifyWebhookOptions = {},
): WebhookCheck {
  const signatureHeader = header(headers, SIGNATURE)
  if (!signatureHeader) return { ok: false, reason: 'missing_signature' }
  const timestampHeader = header(headers, TIMESTAMP)?.trim()
  if (!timestampHeader) return { ok: false, reason: 'missing_timestamp' }
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'invalid_timestamp' }
  const timestamp = Number(timestampHeader)
  const now = (options.now ?? Date.now)() / 1000
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' }
  }
  // Several `v1=` entries may be present while a sender rotates its secret.
  const offered = signatureHeader
    .split(/[\s,]+/)
    .filter((part) => part.startsWith('v1='))
    .map((part) => Buffer.from(part.slice(3).toLowerCase(), 'utf8'))
  const bytes = webhookBodyBytes(body)
  for (const key of typeof secret === 'string' ? [secret] : secret) {
    const expected = Buffer.from(sign(key, timestampHeader, bytes).slice(3), 'utf8')
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return { ok: true, timestamp }
      }
    }
  }
  return { ok: false, reason: 'signature_mismatch' }
}

/**
 * Verifies a Cuekit (or CueAPI) webhook: `X-CueAPI-Signature: v1=<hex>` must be the HMAC-SHA256,
 * keyed with your `whsec_…` secret, of `"<X-CueAPI-Timestamp>." + body`, and the timestamp must be
 * within ±5 minutes. Pass the raw body when you have it (string or Buffer); a body your framework
 * already parsed is re-serialised as the sender did. The comparison is constant-time. `secret` may
 * be a list while you rotate secrets.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { verifyWebhook } from '@cuekit/sdk'
 *
 * app.post('/hooks/cuekit', express.raw({ type: 'application/json' }), (req, res) => {
 *   if (!verifyWebhook(process.env.WEBHOOK_SECRET!, req.headers, req.body)) return res.sendStatus(401)
 *   const body = JSON.parse(req.body.toString('utf8'))
 *   // X-CueAPI-Execution-Id is the idempotency key: the same execution may be delivered twice.
 *   res.sendStatus(204)
 * })
 * ```
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: WebhookBody,
  options: VerifyWebhookOptions = {},
): boolean {
  return checkWebhook(secret, headers, body, options).ok
}

/**
 * Computes the `X-CueAPI-Signature` value for a body and timestamp: what a sender puts on the
 * request, and what tests of your receiver need. It is the function the Cuekit server signs
 * deliveries with (from `@cuekit/protocol`).
 *
 * @example
 * ```ts
 * const timestamp = Math.floor(Date.now() / 1000)
 * const body = pythonJsonDumps({ execution_id: 'exec_1', payload: {} })
 * const headers = {
 *   'x-cueapi-timestamp': String(timestamp),
 *   'x-cueapi-signature': signWebhook('whsec_test', timestamp, body),
 * }
 * ```
 */
export const signWebhook: (secret: string, timestamp: number | string, body: WebhookBody) => string = sign
