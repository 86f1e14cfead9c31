import { type HttpRoute, LIMITS } from '@cuekit/protocol'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { z } from 'zod'
import type { Guard } from './auth.ts'
import type { AppEnv } from './context.ts'
import { HttpError, validationError } from './errors.ts'

type Out<R, K extends 'body' | 'query'> = R extends { [P in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined

export interface RouteInput<R extends HttpRoute> {
  body: Out<R, 'body'>
  query: Out<R, 'query'>
  params: Record<string, string>
}

export interface RouteGuards {
  tenant: Guard
  admin: Guard
}

/** A registered path and method, so an unmatched method can answer 405 with `Allow`. */
export interface KnownRoute {
  pattern: RegExp
  method: string
}

export interface RouteContext {
  guards: RouteGuards
  known: KnownRoute[]
}

/**
 * Registers one route of the protocol's table (`ROUTES`): its OpenAPI description, its auth and
 * the validation of its body and query all come from the entry; the handler is the server's only
 * part. Validation failures are 422 with the zod issues.
 */
export function route<R extends HttpRoute>(
  app: OpenAPIHono<AppEnv>,
  ctx: RouteContext,
  def: R,
  handler: (c: Context<AppEnv>, input: RouteInput<R>) => Response | Promise<Response>,
): void {
  const auth = def.auth
  const params = [...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)
  app.openAPIRegistry.registerPath({
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: [...def.tags],
    ...(auth === 'none' ? {} : { security: [{ [auth === 'admin' ? 'AdminKey' : 'ApiKey']: [] }] }),
    request: {
      ...(params.length
        ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) as never }
        : {}),
      ...(def.query ? { query: def.query as never } : {}),
      ...(def.body
        ? { body: { required: true, content: { 'application/json': { schema: def.body as never } } } }
        : {}),
    },
    responses: Object.fromEntries(
      Object.entries(def.responses).map(([status, r]) => [
        status,
        r.schema
          ? { description: r.description, content: { 'application/json': { schema: r.schema as never } } }
          : { description: r.description },
      ]),
    ),
  })
  const honoPath = def.path.replace(/\{(\w+)\}/g, ':$1')
  ctx.known.push({
    pattern: new RegExp(`^${def.path.replace(/\{\w+\}/g, '[^/]+')}$`),
    method: def.method.toUpperCase(),
  })
  const guard = auth === 'tenant' ? ctx.guards.tenant : auth === 'admin' ? ctx.guards.admin : null
  const final: MiddlewareHandler<AppEnv> = async (c) => {
    // Routed, then authenticated, then read: a refused request's body is never parsed.
    if (guard) await guard(c)
    const raw = await readJsonBody(c)
    const body = def.body ? parseWith(def.body, raw ?? {}, 'body') : undefined
    const query = def.query ? parseWith(def.query, c.req.query(), 'query') : undefined
    return handler(c, { body, query, params: c.req.param() as Record<string, string> } as RouteInput<R>)
  }
  const on = app.on as unknown as (
    method: string,
    path: string,
    ...handlers: MiddlewareHandler<AppEnv>[]
  ) => void
  on.call(app, def.method.toUpperCase(), honoPath, final)
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value)
  if (!result.success) throw validationError(result.error.issues, where)
  return result.data
}

/**
 * The body as text: straight from Node's request stream when served by @hono/node-server (a
 * fraction of the cost of the WHATWG stream behind `c.req.text()`), else through Hono.
 */
async function readBody(c: Context<AppEnv>): Promise<string> {
  const incoming = c.env?.incoming
  if (!incoming || incoming.readableEnded || incoming.readableDidRead) {
    const text = await c.req.text()
    if (Buffer.byteLength(text) > LIMITS.bodyLimitBytes) throw new HttpError('payload_too_large')
    return text
  }
  // Events rather than `for await`: the stream's async iterator keeps generator frames alive as
  // long as the request (a long-poll) does.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > LIMITS.bodyLimitBytes) {
        done()
        reject(new HttpError('payload_too_large'))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      done()
      resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const onError = (error: Error) => {
      done()
      reject(error)
    }
    const done = () => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
    }
    incoming.on('data', onData)
    incoming.once('end', onEnd)
    incoming.once('error', onError)
  })
}

/** JSON nesting deeper than this is refused: deeper values overflow the stack when serialised. */
export const MAX_JSON_DEPTH = 128

/**
 * How many `{` and `[` the text holds (inside strings too), counting no further than `limit + 1`.
 * Nesting can never be deeper than this. `indexOf` is native: a 2.5 kB claim with 16 outcomes
 * is counted in well under a microsecond, where the character loop below takes ~7 µs.
 */
function openers(text: string, limit: number): number {
  let n = 0
  for (const ch of ['{', '[']) {
    for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) {
      if (++n > limit) return n
    }
  }
  return n
}

/**
 * The deepest array/object nesting in JSON text (strings skipped), stopping past `limit`. Text
 * with no more openers than `limit` answers with that count, an upper bound that is enough to
 * know it is within the limit.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  const bound = openers(text, limit)
  if (bound <= limit) return bound
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 92)
        i++ // backslash: skip the escaped character
      else if (ch === 34) inString = false
    } else if (ch === 34) inString = true
    else if (ch === 91 || ch === 123) {
      depth++
      if (depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (ch === 93 || ch === 125) depth--
  }
  return max
}

/**
 * Reads a JSON body up to 1 MB (413 beyond: at once from Content-Length, else as soon as the
 * stream passes it) whatever the Content-Type (curl's -d sends form encoding), and refuses what
 * is not JSON with 400 invalid_json. Undefined when empty.
 */
export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return undefined
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > LIMITS.bodyLimitBytes) throw new HttpError('payload_too_large')
  const text = await readBody(c)
  if (text.trim() === '') return undefined
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new HttpError('validation_error', `body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError('invalid_json')
  }
}
