import type { ServerResponse } from 'node:http'
import type { EnqueueResult, ReportInput, TenantRecord } from '@cuekit/engine'
import {
  type BatchOutcomeItem,
  type ClaimedExecution,
  type ClaimResponse,
  LIMITS,
  type OutcomeRequest,
  ROUTES,
  WorkerId,
} from '@cuekit/protocol'
// @hono/node-server writes nothing for this response: the route answers on Node's response itself.
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { leaseTokenRequired } from '../auth.ts'
import type { AppEnv } from '../context.ts'
import { errorBody, HttpError, toErrorResponse } from '../errors.ts'
import { route } from '../http.ts'
import type { Services } from '../services.ts'
import { ClientGone, type GoneSignal } from '../waiters.ts'
import { ParkedClaim, type ParkingLot, releaseUnsent } from './parked-claim.ts'

export function executionRoutes(app: OpenAPIHono<AppEnv>, s: Services): void {
  const { engine, config } = s

  /** The lease token, required when the tenant's setting says so; the SDK always sends it. */
  const token = (c: Context<AppEnv>, t: string | undefined) => {
    if (t === undefined && leaseTokenRequired(c.get('tenant'), config)) {
      throw new HttpError(
        'lease_token_required',
        'This tenant requires lease_token on heartbeats, outcomes and releases.',
      )
    }
    return t
  }
  const workerHeader = (c: Context<AppEnv>): string | undefined => {
    const h = c.req.header('x-worker-id')
    if (h === undefined) return undefined
    const parsed = WorkerId.safeParse(h)
    if (!parsed.success)
      throw new HttpError('validation_error', 'X-Worker-Id: must be 1-200 printable characters')
    return parsed.data
  }
  /** Who claims to hold the lease: its token (see `token`), else the worker ID of CueAPI workers. */
  const holder = (
    c: Context<AppEnv>,
    body: { lease_token?: string | undefined; worker_id?: string | undefined },
  ) => ({
    lease_token: token(c, body.lease_token),
    worker_id: body.worker_id ?? workerHeader(c),
  })
  const releaseAll = (c: Context<AppEnv>, executions: ClaimedExecution[]) =>
    releaseUnsent(engine, c.get('tenant'), c.get('log'), executions)

  /**
   * Aborts when this request can no longer hand a claim over: the client went away before its
   * answer was written, or the request is answering with an error. From Node's own response
   * events when served by @hono/node-server: asking Hono for `c.req.raw.signal` would build a
   * full WHATWG Request per long-poll (most of a waiting claim's memory).
   */
  const undeliverable = (c: Context<AppEnv>): ClientGone => {
    const gone = new ClientGone()
    const outgoing = c.env?.outgoing
    if (outgoing) {
      if (outgoing.destroyed && !outgoing.writableFinished) gone.abort()
      // One shared listener (a response closes once): no closure per waiting request.
      GONE.set(outgoing, gone)
      outgoing.on('close', abortUnfinished)
    } else {
      const signal = c.req.raw.signal
      if (signal.aborted) gone.abort()
      else signal.addEventListener('abort', () => gone.abort(), { once: true })
    }
    return gone
  }

  /**
   * Hands claimed executions over. Leases that cannot be handed over are released at once: when
   * the client left while we claimed, when the answer cannot be built, or when the response
   * could not be written.
   */
  const deliver = async (
    c: Context<AppEnv>,
    executions: ClaimedExecution[],
    body: ClaimResponse,
    gone: GoneSignal,
  ) => {
    if (executions.length === 0) return c.json(body, 200)
    if (gone.aborted) {
      await releaseAll(c, executions)
      return c.body(null, 499 as 200)
    }
    let res: Response
    try {
      res = c.json(body, 200)
    } catch (error) {
      await releaseAll(c, executions)
      throw error
    }
    const outgoing = c.env?.outgoing
    if (outgoing) {
      outgoing.once('close', () => {
        if (!outgoing.writableFinished) void releaseAll(c, executions)
      })
    }
    s.metrics.claimed(executions)
    return res
  }

  /**
   * Long-polls on this server wake at once for what it just queued, one hop sooner than the
   * pub/sub notification (which still reaches every server, this one included; a second kick
   * only costs an empty claim).
   */
  const wakeLocal = (tenantId: string, results: EnqueueResult[]) => {
    const tasks = new Map<string, number>()
    for (const r of results)
      if (r.created && r.status === 'pending') tasks.set(r.task, (tasks.get(r.task) ?? 0) + 1)
    if (tasks.size > 0) s.waiters.notify(tenantId, tasks)
  }

  const reportAll = async (tenant: TenantRecord, outcomes: BatchOutcomeItem[]) =>
    (
      await engine.reportMany(
        tenant,
        outcomes.map((item) => reportInput(item)),
      )
    ).map((r) => ('error' in r ? { execution_id: r.execution_id, error: errorBody(r.error).error } : r))

  const claimBody = (executions: ClaimedExecution[]): ClaimResponse =>
    executions.length === 0
      ? { claimed: false, executions: [] }
      : {
          claimed: true,
          execution_id: executions[0]!.execution_id,
          lease_seconds: executions[0]!.lease.lease_seconds,
          executions,
        }

  const lot: ParkingLot = { engine, metrics: s.metrics, claimBody }

  route(app, s, ROUTES.enqueue, async (c, { body }) => {
    const header = c.req.header('idempotency-key')
    if (header !== undefined) {
      if (header.length === 0 || header.length > LIMITS.idempotencyKeyMaxLength) {
        throw new HttpError(
          'validation_error',
          `Idempotency-Key: 1-${LIMITS.idempotencyKeyMaxLength} characters`,
        )
      }
      if (body.idempotency_key !== undefined && body.idempotency_key !== header) {
        throw new HttpError('validation_error', 'Idempotency-Key header and idempotency_key differ')
      }
    }
    const tenant = c.get('tenant')
    const [result] = await engine.enqueue(tenant, [
      { ...body, idempotency_key: header ?? body.idempotency_key },
    ])
    wakeLocal(tenant.id, [result!])
    const record = await engine.get(tenant, result!.execution_id)
    return c.json(record, result!.created ? 201 : 200)
  })

  route(app, s, ROUTES.enqueueBulk, async (c, { body }) => {
    const results = await engine.enqueue(c.get('tenant'), body.executions)
    wakeLocal(c.get('tenant').id, results)
    return c.json({ execution_ids: results.map((r) => r.execution_id) }, 201)
  })

  route(app, s, ROUTES.claim, async (c, { body }) => {
    if (body.wait_seconds > config.maxWaitSeconds) {
      throw new HttpError(
        'validation_error',
        `wait_seconds: at most ${config.maxWaitSeconds} on this server`,
        [{ path: 'wait_seconds', message: `must be <= ${config.maxWaitSeconds}`, code: 'too_big' }],
      )
    }
    const tenant = c.get('tenant')
    const tasks = body.task === undefined ? null : Array.isArray(body.task) ? body.task : [body.task]
    const attempt = () =>
      engine.claim(tenant, {
        worker_id: body.worker_id,
        task: tasks ?? undefined,
        max: body.max,
        lease_seconds: body.lease_seconds,
      })
    const started = performance.now()
    const gone = undeliverable(c)
    const waiting = body.wait_seconds > 0 && !s.waiters.isClosed
    // Reports sent along are recorded while the claim runs: one round trip to Redis for both.
    const reporting = body.outcomes ? reportAll(tenant, body.outcomes) : undefined
    // A failed report fails the request: its long-poll stops now rather than claiming for an
    // answer that has already been given.
    reporting?.catch(() => gone.abort())
    const outgoing = c.env?.outgoing
    if (waiting && outgoing) {
      // Served by Node: the long-poll waits without this request (parked-claim.ts).
      const parked = new ParkedClaim(
        lot,
        tenant,
        c.get('request'),
        c.get('log'),
        outgoing,
        gone,
        reporting,
        started,
        c.get('rateLimit'),
      )
      s.waiters.park(tenant.id, tasks, body.max, body.wait_seconds * 1000, gone, attempt, parked.ended)
      return RESPONSE_ALREADY_SENT
    }
    const claiming = waiting
      ? s.waiters.longPoll(tenant.id, tasks, body.max, body.wait_seconds * 1000, gone, attempt)
      : attempt()
    const [claimed, reported] = await Promise.allSettled([claiming, reporting])
    if (claimed.status === 'rejected') throw claimed.reason
    const executions = claimed.value
    if (reported.status === 'rejected') {
      await releaseAll(c, executions)
      throw reported.reason
    }
    s.metrics.claimWait.observe(
      { claimed: executions.length > 0 ? 'yes' : 'no' },
      (performance.now() - started) / 1000,
    )
    const answer = claimBody(executions)
    return deliver(c, executions, reported.value ? { ...answer, results: reported.value } : answer, gone)
  })

  route(app, s, ROUTES.claimable, async (c, { query }) =>
    c.json(await engine.claimable(c.get('tenant'), query.task), 200),
  )

  route(app, s, ROUTES.heartbeats, async (c, { body }) => {
    const tenant = c.get('tenant')
    const worker = workerHeader(c)
    const results = await Promise.all(
      body.leases.map(async (item) => {
        try {
          return await engine.extend(tenant, item.execution_id, {
            lease_token: item.lease_token,
            worker_id: worker,
            extend_seconds: item.extend_seconds,
          })
        } catch (error) {
          return { execution_id: item.execution_id, error: itemError(error) }
        }
      }),
    )
    return c.json({ results }, 200)
  })

  route(app, s, ROUTES.reportOutcomes, async (c, { body }) => {
    return c.json({ results: await reportAll(c.get('tenant'), body.outcomes) }, 200)
  })

  route(app, s, ROUTES.listExecutions, async (c, { query }) =>
    c.json(await engine.list(c.get('tenant'), query), 200),
  )

  route(app, s, ROUTES.getExecution, async (c, { params }) =>
    c.json(await engine.get(c.get('tenant'), params.id!), 200),
  )

  route(app, s, ROUTES.claimById, async (c, { body, params }) => {
    const claimed = await engine.claimById(c.get('tenant'), params.id!, body)
    return deliver(c, [claimed], claimBody([claimed]), undeliverable(c))
  })

  route(app, s, ROUTES.heartbeat, async (c, { body, params }) => {
    const result = await engine.extend(c.get('tenant'), params.id!, {
      ...holder(c, body),
      extend_seconds: body.extend_seconds,
    })
    return c.json(result, 200)
  })

  route(app, s, ROUTES.reportOutcome, async (c, { body, params }) => {
    const input = reportInput({ ...body, worker_id: body.worker_id ?? workerHeader(c) })
    input.lease_token = token(c, input.lease_token)
    return c.json(await engine.reportOutcome(c.get('tenant'), params.id!, input), 200)
  })

  route(app, s, ROUTES.release, async (c, { body, params }) => {
    const result = await engine.release(c.get('tenant'), params.id!, {
      ...holder(c, body),
      delay_seconds: body.delay_seconds,
    })
    return c.json(result, 200)
  })

  route(app, s, ROUTES.cancel, async (c, { params }) =>
    c.json(await engine.cancel(c.get('tenant'), params.id!), 200),
  )

  route(app, s, ROUTES.replay, async (c, { params }) =>
    c.json(await engine.replay(c.get('tenant'), params.id!), 201),
  )
}

/** The ClientGone of each response a claim may still hand executions over on. */
const GONE = new WeakMap<ServerResponse, ClientGone>()

function abortUnfinished(this: ServerResponse): void {
  if (!this.writableFinished) GONE.get(this)?.abort()
}

type ReportBody = Omit<OutcomeRequest, 'lease_token'> & { lease_token?: string | undefined }

/**
 * A report as the engine takes it: what is not the report's own is its evidence. One rest per
 * report and no spread after it (V8's slow path; a claim carries a hundred reports).
 */
function reportInput(body: BatchOutcomeItem): ReportInput & { execution_id: string }
function reportInput(body: ReportBody): ReportInput
function reportInput(body: ReportBody & { execution_id?: string }): ReportInput & { execution_id?: string } {
  const { success, error, retry, retry_after_seconds, lease_token, worker_id, execution_id, ...evidence } =
    body
  return { execution_id, success, error, retry, retry_after_seconds, lease_token, worker_id, evidence }
}

function itemError(error: unknown) {
  const { code, message } = toErrorResponse(error)
  return errorBody(code, message).error
}
