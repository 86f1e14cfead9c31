import type { ErrorBody } from '@cuekit/protocol'

/** One problem of a 422 answer: where in the body (`schedule.cron`) and what is wrong with it. */
export interface ErrorDetail {
  path: string
  message: string
}

/**
 * An error answer of the API, with its stable code (docs/architecture.md#http-contract) and, for
 * 422, the field details.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message)
  }
}

function detailsOf(value: unknown): ErrorDetail[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((d) =>
    d && typeof d === 'object' && typeof d.message === 'string'
      ? [{ path: typeof d.path === 'string' ? d.path : '', message: d.message }]
      : [],
  )
}

export type Query = Record<string, string | number | null | undefined>

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
  patch<T>(path: string, body: unknown): Promise<T>
  del(path: string): Promise<void>
  /** The raw streaming request for /v1/events. */
  stream(path: string, signal: AbortSignal): Promise<Response>
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query))
    if (v !== null && v !== undefined && v !== '') params.set(k, String(v))
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/**
 * The HTTP API with the key in the Authorization header, which is the only place it travels.
 * A 401 anywhere means the key was revoked or regenerated: `onUnauthorized` signs out.
 */
export function createApi(apiKey: string, onUnauthorized: () => void, timeoutMs = 15_000): Api {
  const headers = (json: boolean): HeadersInit => ({
    authorization: `Bearer ${apiKey}`,
    accept: 'application/json',
    ...(json ? { 'content-type': 'application/json' } : {}),
  })

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(timeoutMs),
    })
    const textBody = await res.text()
    if (!res.ok) {
      if (res.status === 401) onUnauthorized()
      let code = `http_${res.status}`
      let message = `${method} ${path} answered ${res.status}`
      let details: ErrorDetail[] = []
      try {
        const parsed = JSON.parse(textBody) as ErrorBody
        code = parsed.error.code
        message = parsed.error.message
        details = detailsOf(parsed.error.details)
      } catch {
        // Not our error shape (a proxy's page, say): keep the generic message.
      }
      throw new ApiError(res.status, code, message, details)
    }
    return (textBody ? JSON.parse(textBody) : undefined) as T
  }

  return {
    get: (path, query) => call('GET', withQuery(path, query)),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
    del: (path) => call('DELETE', path),
    async stream(path, signal) {
      const res = await fetch(path, {
        headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal,
      })
      if (res.status === 401) onUnauthorized()
      return res
    },
  }
}
