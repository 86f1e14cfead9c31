import http from 'node:http'
import https from 'node:https'
import type { StoredCue } from '@cuekit/engine'
import { type ClaimedExecution, pythonJsonDumps, type WebhookBody } from '@cuekit/protocol'
import { signWebhook } from '@cuekit/protocol/webhook-signature'
import { checkWebhookUrl, lookupFor, type Resolver, WebhookUrlError } from '../ssrf.ts'

// Sending one webhook: the body and headers CueAPI's receivers expect, signed, and the one HTTP
// request behind the SSRF guard. The dispatcher (dispatcher.ts) decides when and what to send.

/** Python's `datetime.isoformat()` of a UTC instant, as CueAPI writes `scheduled_for`. */
export function pythonIsoformat(isoUtc: string): string {
  const d = new Date(isoUtc)
  const base = d.toISOString().slice(0, 19)
  const ms = d.getUTCMilliseconds()
  return `${base}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`
}

// One signing function for the server and the SDK's verifyWebhook (docs/architecture.md#webhooks);
// re-exported for index.ts.
export { signWebhook }

export interface WebhookRequest {
  url: string
  method: 'POST' | 'GET' | 'PUT' | 'PATCH'
  headers: Record<string, string>
  body: string
  timeoutMs: number
  allowPrivate: boolean
  signal?: AbortSignal
  resolve?: Resolver
}

export interface WebhookResult {
  ok: boolean
  status: number | null
  /** A readable reason when not ok. */
  error: string | null
  /** The first 2000 characters of the answer. */
  responseBody: string
}

const RESPONSE_SNIPPET = 2000

/**
 * One HTTP request to a webhook: the host is resolved and checked by the SSRF guard and the socket
 * connects to the checked address; redirects are not followed; the whole exchange must finish
 * within the timeout. Never throws: every failure is a result.
 */
export async function sendWebhook(req: WebhookRequest): Promise<WebhookResult> {
  const fail = (error: string, status: number | null = null): WebhookResult => ({
    ok: false,
    status,
    error,
    responseBody: '',
  })
  let addresses: Awaited<ReturnType<typeof checkWebhookUrl>>
  try {
    addresses = await checkWebhookUrl(req.url, {
      allowPrivate: req.allowPrivate,
      ...(req.resolve ? { resolve: req.resolve } : {}),
    })
  } catch (error) {
    return fail(error instanceof WebhookUrlError ? error.message : String(error))
  }
  const url = new URL(req.url)
  const client = url.protocol === 'https:' ? https : http
  const sendsBody = req.method !== 'GET'
  const headers: Record<string, string> = { ...req.headers }
  if (sendsBody) headers['Content-Length'] = String(Buffer.byteLength(req.body))
  return new Promise<WebhookResult>((resolve) => {
    let settled = false
    const finish = (result: WebhookResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const request = client.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers,
      // One connection per delivery: no pooled socket is shared across tenants or checks.
      agent: false,
      lookup: lookupFor(addresses[0]!) as never,
    })
    const timer = setTimeout(() => {
      finish(fail('Webhook endpoint timed out'))
      request.destroy()
    }, req.timeoutMs)
    const onAbort = () => {
      finish(fail('Delivery aborted: the server is shutting down'))
      request.destroy()
    }
    req.signal?.addEventListener('abort', onAbort, { once: true })
    request.on('error', (err: NodeJS.ErrnoException) => {
      finish(fail(`Webhook delivery failed: ${err.code ?? err.message}`))
    })
    request.on('response', (res) => {
      const status = res.statusCode ?? 0
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (body.length < RESPONSE_SNIPPET) body += chunk
        else res.destroy()
      })
      const done = () => {
        const snippet = body.slice(0, RESPONSE_SNIPPET)
        if (status >= 200 && status < 300) {
          finish({ ok: true, status, error: null, responseBody: snippet })
        } else {
          const why =
            status >= 300 && status < 400
              ? `Webhook endpoint answered ${status} (redirects are not followed)`
              : `Webhook endpoint rejected request (${status})`
          finish({ ok: false, status, error: why, responseBody: snippet })
        }
      }
      res.on('end', done)
      // The status is known; a body cut short (or destroyed past the snippet) does not change it.
      res.on('close', done)
      res.on('error', () => {})
    })
    if (sendsBody) request.end(req.body)
    else request.end()
  })
}

/** What one delivery sends: CueAPI's envelope, serialised as Python would, and its signed headers. */
export function webhookMessage(
  cue: StoredCue,
  item: ClaimedExecution,
  secret: string,
  timestamp: number,
): { body: string; headers: Record<string, string> } {
  const envelope: WebhookBody = {
    attempt: item.attempt,
    cue_id: cue.id,
    execution_id: item.execution_id,
    name: item.cue_name ?? cue.record.name,
    payload: item.payload,
    scheduled_for: pythonIsoformat(item.scheduled_for),
  }
  const body = pythonJsonDumps(envelope)
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'Cuekit-Webhook/1.0',
    'X-CueAPI-Execution-Id': item.execution_id,
    'X-CueAPI-Cue-Id': cue.id,
    'X-CueAPI-Scheduled-For': envelope.scheduled_for,
    'X-CueAPI-Attempt': String(item.attempt),
    'X-CueAPI-Timestamp': String(timestamp),
    'X-CueAPI-Signature': signWebhook(secret, timestamp, body),
  }
  // CueAPI merges the cue's headers last: they may replace any of the above.
  for (const [name, value] of Object.entries(cue.config.callback.headers)) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing]
    }
    headers[name] = value
  }
  return { body, headers }
}
