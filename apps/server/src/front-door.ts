import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import type { AnsweredLater, AppEnv, RequestLog } from './context.ts'
import type { Metrics } from './metrics.ts'

const REQUEST_ID = /^[\w.:-]{1,100}$/

/**
 * Every request: its id and logger, the duration metric, a log line for what went wrong, and
 * `Connection: close` while draining. One middleware, because each level stays
 * suspended (with its closures) as long as a long-poll waits. A route that answers on Node's
 * response itself, after this has returned (a parked long-poll), finishes the request through
 * the same record (`AnsweredLater`): whatever every answer must carry or record belongs in the
 * record, not after `next()` alone, or parked answers go without it.
 */
export function frontDoor(log: Logger, metrics: Metrics, shutdown: AbortSignal): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id')
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID()
    const record = new RequestRecord(log, metrics, shutdown, requestId, c.req.method)
    c.set('requestId', requestId)
    c.set('log', record)
    c.set('request', record)
    // The body is read by the route, after its guard (http.ts): nothing here parses what an
    // unauthenticated client sent.
    await next()
    record.route = c.req.routePath
    if (record.parked) return
    // Set on the answer, not before: a header set early gives every waiting long-poll its own
    // Headers object for as long as it waits. On Node's response when there is one: through
    // Hono, a header set on a finished answer turns @hono/node-server's light Response into a
    // full WHATWG one (~100 µs of CPU per request).
    const outgoing = c.env?.outgoing
    const direct = typeof outgoing?.setHeader === 'function' && !outgoing.headersSent
    for (const [name, value] of Object.entries(record.headers())) {
      if (direct) outgoing.setHeader(name, value)
      else c.header(name, value)
    }
    record.done(c.res.status)
  }
}

/**
 * One object per request: its logger (the pino child made on first use — most requests, and
 * every waiting long-poll, never log) and what finishing it takes. No closures.
 */
class RequestRecord implements RequestLog, AnsweredLater {
  parked = false
  route = ''
  private child: Logger | undefined
  private readonly started = performance.now()

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly shutdown: AbortSignal,
    private readonly requestId: string,
    private readonly method: string,
  ) {}

  park(): void {
    this.parked = true
  }

  headers(): Record<string, string> {
    // While draining, every answer closes its connection so the server can finish.
    return this.shutdown.aborted
      ? { 'X-Request-Id': this.requestId, Connection: 'close' }
      : { 'X-Request-Id': this.requestId }
  }

  done(status: number): void {
    const ms = performance.now() - this.started
    this.metrics.httpDuration.observe(
      { method: this.method, route: this.route, status: String(status) },
      ms / 1000,
    )
    const line = { method: this.method, path: this.route, status, ms: Math.round(ms) }
    if (status >= 500) this.error(line, 'request')
    else if (status >= 400) this.info(line, 'request')
    else if (this.log.isLevelEnabled('debug')) this.debug(line, 'request')
  }

  private get logger(): Logger {
    this.child ??= this.log.child({ request_id: this.requestId })
    return this.child
  }

  error(obj: object, msg?: string): void {
    this.logger.error(obj, msg)
  }

  warn(obj: object, msg?: string): void {
    this.logger.warn(obj, msg)
  }

  info(obj: object, msg?: string): void {
    this.logger.info(obj, msg)
  }

  debug(obj: object, msg?: string): void {
    this.logger.debug(obj, msg)
  }
}
