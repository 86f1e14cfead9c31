import type { ServerResponse } from 'node:http'
import type { Engine, TenantRecord } from '@cuekit/engine'
import {
  type BatchOutcomeResult,
  type ClaimedExecution,
  type ClaimResponse,
  ERROR_CODES,
} from '@cuekit/protocol'
import type { AnsweredLater, RequestLog } from '../context.ts'
import { errorAnswer } from '../errors.ts'
import type { Metrics } from '../metrics.ts'
import type { GoneSignal } from '../waiters.ts'

/** What a parked claim needs of its server: one object for all of them. */
export interface ParkingLot {
  engine: Engine
  metrics: Metrics
  claimBody(executions: ClaimedExecution[]): ClaimResponse
}

/**
 * A long-poll answered without its request's Hono context: the route parks it with the waiters
 * and returns at once, and when the waiter ends (something claimed, the wait over, the client
 * gone, an error) this writes the answer on Node's response as the route would have — the
 * reports' results, the release of whatever cannot be handed over, the duration metric and log
 * line. While it waits a claim holds this object, its waiter and Node's own request objects; the
 * Hono context, its closures and the suspended async frames of the route and middleware were
 * about a third of a waiting claim's memory (issue 13 §4).
 */
export class ParkedClaim {
  constructor(
    private readonly lot: ParkingLot,
    private readonly tenant: TenantRecord,
    private readonly request: AnsweredLater,
    private readonly log: RequestLog,
    private readonly outgoing: ServerResponse,
    private readonly gone: GoneSignal,
    /** The outcomes the claim carried, being recorded. */
    private readonly reporting: Promise<BatchOutcomeResult[]> | undefined,
    private readonly started: number,
    /** The rate-limit headers the guard gave this request (the route's c.header would lose them). */
    private readonly rateLimit: Record<string, string> | undefined,
  ) {
    request.park()
  }

  /** The waiter's callback: what was claimed, or the error that ended the wait. */
  readonly ended = (error: unknown, executions: ClaimedExecution[]): void => {
    this.answer(error, executions).catch((e: unknown) => {
      this.log.error({ err: e }, 'could not answer a parked claim')
      if (!this.outgoing.headersSent) this.outgoing.destroy()
    })
  }

  private async answer(error: unknown, executions: ClaimedExecution[]): Promise<void> {
    let results: BatchOutcomeResult[] | undefined
    if (this.reporting) {
      try {
        results = await this.reporting
      } catch (reportError) {
        error ??= reportError
      }
    }
    if (error !== undefined) {
      await this.release(executions)
      this.fail(error)
      return
    }
    this.lot.metrics.claimWait.observe(
      { claimed: executions.length > 0 ? 'yes' : 'no' },
      (performance.now() - this.started) / 1000,
    )
    const answer = this.lot.claimBody(executions)
    this.deliver(executions, results ? { ...answer, results } : answer)
  }

  /** As the route's deliver: leases that cannot be handed over are released at once. */
  private deliver(executions: ClaimedExecution[], body: ClaimResponse): void {
    if (executions.length > 0 && this.gone.aborted) {
      void this.release(executions)
      this.write(499)
      return
    }
    let text: string
    try {
      text = JSON.stringify(body)
    } catch (error) {
      void this.release(executions).then(() => this.fail(error))
      return
    }
    if (executions.length > 0) {
      const out = this.outgoing
      out.once('close', () => {
        if (!out.writableFinished) void this.release(executions)
      })
      this.lot.metrics.claimed(executions)
    }
    this.write(200, text)
  }

  /** As the app's error handler: the error table's status and body, 5xx logged. */
  private fail(error: unknown): void {
    const { status, body, headers } = errorAnswer(error)
    if (status >= 500) this.log.error({ err: error }, 'request failed')
    this.write(status, JSON.stringify(body), headers)
  }

  private write(status: number, text?: string, extra?: Record<string, string>): void {
    const out = this.outgoing
    if (!out.destroyed && !out.writableEnded) {
      const headers: Record<string, string> = { ...this.rateLimit, ...this.request.headers(), ...extra }
      if (text !== undefined) {
        headers['Content-Type'] = 'application/json'
        headers['Content-Length'] = String(Buffer.byteLength(text))
      }
      out.writeHead(status, headers)
      out.end(text)
    }
    this.request.done(status)
  }

  private release(executions: ClaimedExecution[]): Promise<unknown> {
    return releaseUnsent(this.lot.engine, this.tenant, this.log, executions)
  }
}

/** Gives back leases a claim could not hand over (their next claim gets the same attempt number). */
export function releaseUnsent(
  engine: Engine,
  tenant: TenantRecord,
  log: RequestLog,
  executions: ClaimedExecution[],
): Promise<unknown> {
  return Promise.all(
    executions.map((e) =>
      engine.release(tenant, e.execution_id, { lease_token: e.lease.token }).catch((error: Error) => {
        log.warn({ execution_id: e.execution_id, err: error.message }, 'could not release an unsent claim')
      }),
    ),
  )
}
