import { CuekitError } from '../errors.ts'
import type { PayloadSchema } from '../schema.ts'
import type { OutcomeInput } from '../types.ts'

/**
 * Evidence a handler attaches to its outcome (CueAPI's fields), and the `result`.
 *
 * @example
 * ```ts
 * ctx.evidence({ external_id: 'msg_123', result_url: 'https://mail.example/msg_123', summary: 'sent' })
 * ```
 */
export type Evidence = Pick<
  OutcomeInput,
  | 'result'
  | 'metadata'
  | 'external_id'
  | 'result_url'
  | 'result_ref'
  | 'result_type'
  | 'summary'
  | 'artifacts'
>

/**
 * What a handler receives for one execution.
 *
 * @example
 * ```ts
 * const handler = async (ctx: HandlerContext<{ to: string }>) => {
 *   await sendEmail(ctx.payload.to, { idempotencyKey: ctx.executionId, signal: ctx.signal })
 * }
 * ```
 */
export interface HandlerContext<P = unknown> {
  /** Stable across retries and reclaims of this execution: the idempotency key to use. */
  readonly executionId: string
  /** The payload, parsed by the handler's schema when it has one. */
  readonly payload: P
  readonly task: string
  /** 1 on the first delivery; a retry or a reclaim after a lost lease increments it. */
  readonly attempt: number
  readonly maxAttempts: number
  readonly cueId: string | null
  readonly cueName: string | null
  readonly scheduledFor: string
  readonly workerId: string
  /**
   * The lease epoch: +1 on every claim of this execution. Pass it to your storage and refuse writes
   * carrying a smaller one, so a worker whose lease was lost cannot overwrite its successor.
   */
  readonly fencingToken: number
  /**
   * Aborts when the lease is lost, the execution is cancelled, or `worker.stop()` reaches its
   * deadline; `signal.reason` is a {@link LeaseLostError}, {@link ExecutionCancelledError} or
   * {@link WorkerStoppingError}. Pass it to `fetch`, child processes, database drivers.
   */
  readonly signal: AbortSignal
  /** The latest local time the lease is certainly still valid (a conservative estimate). */
  readonly leaseValidUntil: Date
  /** Extends the lease now (automatic heartbeats already do this at a third of the lease). */
  heartbeat(): Promise<void>
  /** Extends the lease to `seconds` from now; later automatic heartbeats keep that length. */
  extend(seconds: number): Promise<void>
  /** Attaches evidence (and optionally `result`) to the outcome this execution reports. */
  evidence(fields: Evidence): void
}

/**
 * A handler: receives the context, returns the result (any JSON value) or throws to fail.
 *
 * @example
 * ```ts
 * const resize: HandlerFunction = async (ctx) => {
 *   const { url } = ctx.payload as { url: string }
 *   return { thumbnail: await makeThumbnail(url, { signal: ctx.signal }) }
 * }
 * ```
 */
export type HandlerFunction<P = unknown> = (ctx: HandlerContext<P>) => unknown

/**
 * A handler whose payload is validated first; a payload the schema refuses is reported as a
 * non-retryable failure without running the handler.
 *
 * @example
 * ```ts
 * const sendEmail: SchemaHandler<{ to: string }> = {
 *   schema: z.object({ to: z.email() }),
 *   handler: async (ctx) => mailer.send(ctx.payload.to),
 * }
 * ```
 */
export interface SchemaHandler<P = unknown> {
  schema: PayloadSchema<P>
  handler: HandlerFunction<P>
}

/**
 * A handler, plain or with a payload schema.
 *
 * @example
 * ```ts
 * const handlers: Record<string, Handler> = { ping: async () => 'pong' }
 * ```
 */
export type Handler<P = unknown> = HandlerFunction<P> | SchemaHandler<P>

/**
 * Types a schema handler's payload from its schema, for handlers declared outside `new Worker`.
 *
 * @example
 * ```ts
 * const sendEmail = defineHandler({
 *   schema: z.object({ to: z.email() }),
 *   handler: async (ctx) => mailer.send(ctx.payload.to), // ctx.payload: { to: string }
 * })
 * new Worker({ apiKey, handlers: { 'send-email': sendEmail } })
 * ```
 */
export function defineHandler<P>(handler: SchemaHandler<P>): SchemaHandler<P> {
  return handler
}

/**
 * Throw it from a handler to fail the execution for good: no retry even if attempts remain.
 *
 * @example
 * ```ts
 * if (!user) throw new NonRetryableError(`user ${ctx.payload.userId} does not exist`)
 * ```
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
}

/**
 * Throw it from a handler to fail this attempt and ask for the next one after `retryAfterSeconds`
 * (instead of the execution's backoff schedule), e.g. when a downstream API says when to come back.
 *
 * @example
 * ```ts
 * if (response.status === 429) throw new RetryAfterError('rate limited upstream', Number(response.headers.get('retry-after')))
 * ```
 */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
}

/**
 * The reason `ctx.signal` aborts when `worker.stop()` reached its deadline before the handler
 * finished; the execution has been released for another worker.
 *
 * @example
 * ```ts
 * ctx.signal.addEventListener('abort', () => {
 *   if (ctx.signal.reason instanceof WorkerStoppingError) console.log('shutting down')
 * })
 * ```
 */
export class WorkerStoppingError extends CuekitError {
  override name = 'WorkerStoppingError'
  constructor(message = 'the worker is stopping; the execution was released') {
    super(message, { code: 'worker_stopping', status: 0 })
  }
}
