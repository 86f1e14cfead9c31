import type { z } from 'zod'

/** The shape of a route table entry (the table itself is routes.ts) and what is derived from one. */

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete'

/** Who may call: a tenant API key, the server's admin key, or anyone. */
export type RouteAuth = 'tenant' | 'admin' | 'none'

export interface RouteResponse {
  readonly description: string
  /** The JSON body; none for empty answers and for those that are not JSON. */
  readonly schema?: z.ZodType
}

export interface HttpRoute {
  readonly method: HttpMethod
  /** OpenAPI style: `/v1/executions/{id}`. */
  readonly path: string
  readonly summary: string
  readonly tags: readonly string[]
  readonly auth: RouteAuth
  readonly body?: z.ZodType
  readonly query?: z.ZodType
  /** By status. Every 2xx status of one route answers the same schema (or none). */
  readonly responses: Readonly<Record<number, RouteResponse>>
}

type SuccessStatus = 200 | 201 | 202 | 204

/** What a route answers on success: its 2xx schema's output, or undefined when it has none. */
export type RouteAnswer<R extends HttpRoute> = {
  [S in keyof R['responses'] & SuccessStatus]: R['responses'][S] extends { schema: infer T extends z.ZodType }
    ? z.output<T>
    : undefined
}[keyof R['responses'] & SuccessStatus]

/** The schema of a route's successful answers (all its 2xx statuses share it), if it has one. */
export function answerSchema<R extends HttpRoute>(route: R): z.ZodType<RouteAnswer<R>> | undefined {
  for (const [status, response] of Object.entries(route.responses)) {
    if (Number(status) >= 200 && Number(status) < 300 && response.schema) {
      return response.schema as z.ZodType<RouteAnswer<R>>
    }
  }
  return undefined
}

/** The route's path with its `{name}` parameters filled in, each as one encoded path segment. */
export function routePath(route: HttpRoute, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new TypeError(`${route.path}: no value for {${name}}`)
    return encodeURIComponent(value)
  })
}
