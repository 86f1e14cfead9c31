import type { z } from 'zod'
import type { ResponseLike } from '../transport.ts'

/**
 * Per-call options every method accepts.
 *
 * @example
 * ```ts
 * const record = await client.executions.get(id, { signal: AbortSignal.timeout(2000) })
 * ```
 */
export interface RequestOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number
}

export interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  path: string
  query?: Record<string, string | number | boolean | undefined> | undefined
  body?: unknown
  /** Parses a successful answer; omitted for pass-through or empty answers. */
  schema?: z.ZodType<T> | undefined
  /** True when repeating the request cannot do harm (see ClientOptions.maxRetries). */
  safe: boolean
  headers?: Record<string, string> | undefined
  executionId?: string | undefined
  options?: RequestOptions | undefined
}

/**
 * What the API namespaces need from their {@link Client}: one request with retries and parsing, a
 * streaming GET, and the key (which `auth.regenerateKey()` replaces).
 */
export interface Requester {
  apiKey: string | undefined
  request<T>(spec: RequestSpec<T>): Promise<T>
  stream(path: string, signal?: AbortSignal): Promise<ResponseLike>
}

/** An ID as one path segment. */
export const segment = (id: string) => encodeURIComponent(id)

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}
