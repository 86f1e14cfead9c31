import { answerSchema, type HttpRoute, type RouteAnswer, routePath } from '@cuekit/protocol'
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

/** One call of a route of the protocol's table: what the caller adds to the route's own entry. */
export type RouteCall = Omit<RequestSpec<unknown>, 'method' | 'path' | 'schema'> & {
  /** The values of the route's `{name}` path parameters. */
  params?: Readonly<Record<string, string>>
}

/**
 * The request for one call of a route: its method and path, and the schema its answer is parsed
 * with, all from the route's entry in the protocol's table.
 */
export function routeRequest<R extends HttpRoute>(route: R, call: RouteCall): RequestSpec<RouteAnswer<R>> {
  const { params, ...rest } = call
  return {
    ...rest,
    method: route.method.toUpperCase() as RequestSpec<unknown>['method'],
    path: routePath(route, params),
    schema: answerSchema(route),
  }
}

/**
 * What the API namespaces need from their {@link Client}: one call of a route with retries and
 * parsing, a streaming GET, and the key (which `auth.regenerateKey()` replaces).
 */
export interface Requester {
  apiKey: string | undefined
  send<R extends HttpRoute>(route: R, call: RouteCall): Promise<RouteAnswer<R>>
  stream(route: HttpRoute, signal?: AbortSignal): Promise<ResponseLike>
}

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
