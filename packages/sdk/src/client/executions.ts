import {
  type BatchHeartbeatResponse,
  type BatchOutcomeResponse,
  type BulkEnqueueResponse,
  type ClaimableResponse,
  type ClaimResponse,
  type EvidenceResponse,
  type ExecutionRecord,
  type ExecutionSummary,
  type HeartbeatResponse,
  type ListExecutionsResponse,
  type LiveClaimResponse,
  type OutcomeResponse,
  ROUTES,
  type TransitionResponse,
  type VerificationPendingResponse,
  type VerifyResponse,
} from '@cuekit/protocol'
import type {
  BatchHeartbeatInput,
  BatchOutcomeInput,
  ClaimByIdInput,
  ClaimInput,
  EnqueueInput,
  EvidenceInput,
  HeartbeatInput,
  ListExecutionsInput,
  OutcomeInput,
  ReleaseInput,
  VerifyInput,
} from '../types.ts'
import type { Requester, RequestOptions } from './request.ts'

/**
 * `client.executions`: enqueue, claim, heartbeat, report, release, cancel, replay, read.
 *
 * @example
 * ```ts
 * const { executions } = await client.executions.claim({ worker_id: 'w1', task: 'resize', wait_seconds: 20 })
 * for (const e of executions) {
 *   await client.executions.complete(e.execution_id, { lease_token: e.lease.token, result: 'ok' })
 * }
 * ```
 */
export class ExecutionsApi {
  constructor(private readonly client: Requester) {}

  /**
   * `POST /v1/executions`. With `idempotencyKey` (sent as `Idempotency-Key`), the same key within
   * 24 h returns the first execution instead of creating another, so the call is retried safely.
   */
  enqueue(
    input: EnqueueInput,
    options: RequestOptions & { idempotencyKey?: string } = {},
  ): Promise<ExecutionRecord> {
    const key = options.idempotencyKey ?? input.idempotency_key
    return this.client.send(ROUTES.enqueue, {
      body: input,
      headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined,
      safe: key !== undefined,
      options,
    })
  }

  /** `POST /v1/executions/bulk`: up to 1,000 executions in one call. */
  enqueueBulk(executions: EnqueueInput[], options?: RequestOptions): Promise<BulkEnqueueResponse> {
    return this.client.send(ROUTES.enqueueBulk, {
      body: { executions },
      safe: false,
      options,
    })
  }

  /**
   * `POST /v1/executions/claim`: leases up to `max` executions, waiting up to `wait_seconds` for
   * one to become claimable. Never retried: a lost answer leaves leases nobody knows about (the
   * server releases them when it notices, else they expire).
   */
  claim(input: ClaimInput, options: RequestOptions = {}): Promise<ClaimResponse> {
    const wait = (input.wait_seconds ?? 0) * 1000
    return this.client.send(ROUTES.claim, {
      body: input,
      safe: false,
      options: { ...options, timeoutMs: (options.timeoutMs ?? 15_000) + wait },
    })
  }

  /** `POST /v1/executions/{id}/claim` (CueAPI): leases this execution or throws {@link ClaimFailedError}. */
  claimById(executionId: string, input: ClaimByIdInput, options?: RequestOptions): Promise<ClaimResponse> {
    return this.client.send(ROUTES.claimById, {
      params: { id: executionId },
      body: input,
      safe: false,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions/claimable` (CueAPI): up to 50 pending executions, informational. */
  claimable(query: { task?: string } = {}, options?: RequestOptions): Promise<ClaimableResponse> {
    return this.client.send(ROUTES.claimable, {
      query,
      safe: true,
      options,
    })
  }

  /**
   * `POST /v1/executions/{id}/heartbeat`: extends a valid lease. Throws {@link LeaseLostError}
   * when the lease is gone and {@link ExecutionCancelledError} when the execution was cancelled.
   */
  heartbeat(
    executionId: string,
    input: HeartbeatInput,
    options?: RequestOptions,
  ): Promise<HeartbeatResponse> {
    return this.client.send(ROUTES.heartbeat, {
      params: { id: executionId },
      body: input,
      headers: input.worker_id ? { 'x-worker-id': input.worker_id } : undefined,
      safe: input.lease_token !== undefined,
      executionId,
      options,
    })
  }

  /** `POST /v1/executions/heartbeats`: extends up to 100 leases; each item succeeds or fails alone. */
  heartbeats(
    leases: BatchHeartbeatInput[],
    options: RequestOptions & { workerId?: string } = {},
  ): Promise<BatchHeartbeatResponse> {
    return this.client.send(ROUTES.heartbeats, {
      body: { leases },
      headers: options.workerId ? { 'x-worker-id': options.workerId } : undefined,
      safe: true,
      options,
    })
  }

  /**
   * `POST /v1/executions/{id}/outcome`. Idempotent per lease: the same report repeated after a lost
   * answer gets the first answer again, so reports carrying `lease_token` are retried safely.
   */
  reportOutcome(
    executionId: string,
    input: OutcomeInput,
    options?: RequestOptions,
  ): Promise<OutcomeResponse> {
    return this.client.send(ROUTES.reportOutcome, {
      params: { id: executionId },
      body: input,
      safe: input.lease_token !== undefined,
      executionId,
      options,
    })
  }

  /** Reports success: `reportOutcome` with `success: true`. */
  complete(
    executionId: string,
    input: Omit<OutcomeInput, 'success' | 'error' | 'retry' | 'retry_after_seconds'>,
    options?: RequestOptions,
  ): Promise<OutcomeResponse> {
    return this.reportOutcome(executionId, { ...input, success: true }, options)
  }

  /** Reports failure: `reportOutcome` with `success: false`; `retry: false` makes it final. */
  fail(
    executionId: string,
    input: Omit<OutcomeInput, 'success'> & { error: string },
    options?: RequestOptions,
  ): Promise<OutcomeResponse> {
    return this.reportOutcome(executionId, { ...input, success: false }, options)
  }

  /**
   * `PATCH /v1/executions/{id}/evidence`: adds or replaces the evidence of a reported outcome
   * (409 `no_outcome` before one) and re-runs the cue's verification policy.
   */
  evidence(executionId: string, input: EvidenceInput, options?: RequestOptions): Promise<EvidenceResponse> {
    return this.client.send(ROUTES.evidence, {
      params: { id: executionId },
      body: input,
      safe: true,
      options,
    })
  }

  /** `POST /v1/executions/{id}/verify`: approves (default) or rejects (`valid: false`) an outcome. */
  verify(executionId: string, input: VerifyInput = {}, options?: RequestOptions): Promise<VerifyResponse> {
    return this.client.send(ROUTES.verify, { params: { id: executionId }, body: input, safe: false, options })
  }

  /** `POST /v1/executions/{id}/verification-pending`: marks an outcome as awaiting verification. */
  verificationPending(executionId: string, options?: RequestOptions): Promise<VerificationPendingResponse> {
    return this.client.send(ROUTES.verificationPending, { params: { id: executionId }, safe: true, options })
  }

  /**
   * `POST /v1/executions/{id}/live-claim`: attests that this session runs the execution; the first
   * session token wins (409 `already_attested` for another, the first answer again for the same).
   */
  liveClaim(executionId: string, sessionToken: string, options?: RequestOptions): Promise<LiveClaimResponse> {
    return this.client.send(ROUTES.liveClaim, {
      params: { id: executionId },
      body: { session_token: sessionToken },
      safe: true,
      options,
    })
  }

  /** `POST /v1/executions/outcomes`: up to 100 reports; each item succeeds or fails alone. */
  reportOutcomes(outcomes: BatchOutcomeInput[], options?: RequestOptions): Promise<BatchOutcomeResponse> {
    return this.client.send(ROUTES.reportOutcomes, {
      body: { outcomes },
      safe: true,
      options,
    })
  }

  /**
   * `POST /v1/executions/{id}/release`: gives the execution back without consuming an attempt;
   * with `delay_seconds` it is `scheduled` until `next_attempt_at`.
   */
  release(executionId: string, input: ReleaseInput, options?: RequestOptions): Promise<OutcomeResponse> {
    return this.client.send(ROUTES.release, {
      params: { id: executionId },
      body: input,
      safe: input.lease_token !== undefined,
      executionId,
      options,
    })
  }

  /** `POST /v1/executions/{id}/cancel`: cancels now, or asks the lease holder to stop. */
  cancel(executionId: string, options?: RequestOptions): Promise<TransitionResponse> {
    return this.client.send(ROUTES.cancel, {
      params: { id: executionId },
      safe: true,
      executionId,
      options,
    })
  }

  /** `POST /v1/executions/{id}/replay`: runs a terminal execution again as a new execution. */
  replay(executionId: string, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.send(ROUTES.replay, {
      params: { id: executionId },
      safe: false,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions/{id}`: the record with its current lease (no token) and attempt history. */
  get(executionId: string, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.send(ROUTES.getExecution, {
      params: { id: executionId },
      safe: true,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions`: one page, newest first; pass `next_cursor` back as `cursor`. */
  list(query: ListExecutionsInput = {}, options?: RequestOptions): Promise<ListExecutionsResponse> {
    const { status__in, ...rest } = query
    return this.client.send(ROUTES.listExecutions, {
      query: {
        ...rest,
        status__in: Array.isArray(status__in) ? status__in.join(',') : status__in,
      },
      safe: true,
      options,
    })
  }

  /** Every execution matching `query`, following cursors page by page. */
  async *iterate(
    query: Omit<ListExecutionsInput, 'cursor'> = {},
    options?: RequestOptions,
  ): AsyncGenerator<ExecutionSummary, void, undefined> {
    let cursor: string | undefined
    do {
      const page = await this.list({ ...query, cursor }, options)
      yield* page.executions
      cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined
    } while (cursor)
  }
}
