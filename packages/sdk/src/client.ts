import {
  BatchHeartbeatResponse,
  BatchOutcomeResponse,
  BulkEnqueueResponse,
  ClaimableResponse,
  ClaimResponse,
  CreateTenantResponse,
  CueDetail,
  CueRecord,
  ErrorBody,
  ExecutionEvent,
  ExecutionRecord,
  type ExecutionSummary,
  FireCueResponse,
  HeartbeatResponse,
  ListCuesResponse,
  ListExecutionsResponse,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  MeResponse,
  OutcomeResponse,
  RegenerateKeyResponse,
  RegenerateWebhookSecretResponse,
  RegisterResponse,
  StatsResponse,
  TransitionResponse,
  WebhookSecretResponse,
  WorkerHeartbeatResponse,
} from '@cuekit/protocol'
import type { z } from 'zod'
import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts'
import {
  ConnectionError,
  CuekitError,
  errorFromBody,
  InvalidResponseError,
  isRetryable,
  RateLimitError,
} from './errors.ts'
import { type FetchLike, nodeTransport, type ResponseLike } from './transport.ts'
import type {
  BatchHeartbeatInput,
  BatchOutcomeInput,
  ClaimByIdInput,
  ClaimInput,
  CreateCueInput,
  EnqueueInput,
  FireCueInput,
  HeartbeatInput,
  ListCuesInput,
  ListExecutionsInput,
  ListLeasesInput,
  OutcomeInput,
  ReleaseInput,
  UpdateCueInput,
  WorkerHeartbeatInput,
} from './types.ts'
import { SDK_VERSION } from './version.ts'

/**
 * Where the control plane listens when started with `npm start`.
 *
 * @example
 * ```ts
 * const client = new Client({ baseUrl: DEFAULT_BASE_URL, apiKey }) // same as leaving baseUrl out
 * ```
 */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080'

/**
 * Options of a {@link Client}.
 *
 * @example
 * ```ts
 * const options: ClientOptions = { baseUrl: 'https://cuekit.internal', apiKey, timeoutMs: 10_000, maxRetries: 3 }
 * ```
 */
export interface ClientOptions {
  /** The control plane's URL. Default `http://127.0.0.1:8080`. */
  baseUrl?: string
  /** A tenant API key (`cue_sk_…`), or the admin key for `tenants.create`. */
  apiKey?: string
  /** Per-request timeout in ms (long-poll claims add their wait). Default 30 000. */
  timeoutMs?: number
  /**
   * Retries of requests that are safe to repeat (reads, heartbeats and outcome reports with a
   * lease token, releases, enqueues with an idempotency key) after a network error, 429 or 5xx.
   * Default 2.
   */
  maxRetries?: number
  /** Spacing of those retries; a 429's `Retry-After` wins when longer. */
  backoff?: BackoffOptions
  /** Sent with every request. */
  headers?: Record<string, string>
  /** A `fetch` implementation; default a keep-alive `node:http` transport (cheaper than the global `fetch`). */
  fetch?: typeof globalThis.fetch
}

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

interface RequestSpec<T> {
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

const TIMEOUT = Symbol('timeout')

function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000)
}

const id = (executionId: string) => encodeURIComponent(executionId)

/**
 * The typed HTTP client for every endpoint of the v1 API. Answers are parsed with the
 * `@cuekit/protocol` schemas; error answers become typed errors ({@link LeaseLostError},
 * {@link RateLimitError}, …, all {@link CuekitError}s).
 *
 * @example
 * ```ts
 * import { Client } from '@cuekit/sdk'
 *
 * const client = new Client({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'cue_sk_...' })
 * const execution = await client.executions.enqueue({ task: 'send-email', payload: { to: 'a@b.c' } })
 * console.log(execution.execution_id, execution.status) // exec_… pending
 * ```
 */
export class Client {
  readonly baseUrl: string
  /** The key sent as `Authorization: Bearer …`; `auth.regenerateKey()` replaces it. */
  apiKey: string | undefined
  readonly executions: ExecutionsApi
  readonly workers: WorkersApi
  readonly leases: LeasesApi
  readonly queues: QueuesApi
  readonly tenants: TenantsApi
  readonly auth: AuthApi
  readonly cues: CuesApi
  readonly stats: StatsApi
  readonly events: EventsApi
  private readonly timeoutMs: number
  private readonly maxRetries: number
  private readonly backoff: BackoffOptions
  private readonly headers: Record<string, string>
  private readonly fetchImpl: FetchLike

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')
    this.apiKey = options.apiKey
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.maxRetries = options.maxRetries ?? 2
    this.backoff = options.backoff ?? { initialMs: 200, maxMs: 5000 }
    this.headers = options.headers ?? {}
    this.fetchImpl = (options.fetch as FetchLike | undefined) ?? nodeTransport()
    this.executions = new ExecutionsApi(this)
    this.workers = new WorkersApi(this)
    this.leases = new LeasesApi(this)
    this.queues = new QueuesApi(this)
    this.tenants = new TenantsApi(this)
    this.auth = new AuthApi(this)
    this.cues = new CuesApi(this)
    this.stats = new StatsApi(this)
    this.events = new EventsApi(this)
  }

  /** `GET /health`: true when the process answers. Never throws. */
  async health(options?: RequestOptions): Promise<boolean> {
    try {
      await this.request({ method: 'GET', path: '/health', safe: false, options })
      return true
    } catch {
      return false
    }
  }

  /** `GET /ready`: true when the server reaches its storage. Never throws. */
  async ready(options?: RequestOptions): Promise<boolean> {
    try {
      await this.request({ method: 'GET', path: '/ready', safe: false, options })
      return true
    } catch {
      return false
    }
  }

  /** @internal Sends one request (retrying it when safe) and parses the answer. */
  async request<T>(spec: RequestSpec<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(spec)
      } catch (error) {
        if (!spec.safe || attempt > this.maxRetries || !isRetryable(error)) throw error
        if (spec.options?.signal?.aborted) throw spec.options.signal.reason
        let delay = backoffDelay(attempt, this.backoff)
        if (error instanceof RateLimitError && error.retryAfter !== null) {
          delay = Math.max(delay, error.retryAfter * 1000)
        }
        await sleep(delay, spec.options?.signal)
      }
    }
  }

  /** @internal Opens a streaming GET (server-sent events); the caller reads the body. */
  async stream(path: string, signal?: AbortSignal): Promise<ResponseLike> {
    const headers = this.requestHeaders(false, { accept: 'text/event-stream' })
    let response: ResponseLike
    try {
      response = await this.fetchImpl(this.url(path), { method: 'GET', headers, signal: signal ?? null })
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw new ConnectionError(`cannot reach ${this.baseUrl}: ${describe(error)}`, {
        code: 'connection_error',
        status: 0,
        cause: error,
      })
    }
    if (!response.ok) throw await this.errorOf(response, undefined)
    return response
  }

  private url(path: string, query?: RequestSpec<unknown>['query']): string {
    const url = `${this.baseUrl}${path}`
    if (!query) return url
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v))
    const qs = params.toString()
    return qs ? `${url}?${qs}` : url
  }

  private requestHeaders(hasBody: boolean, extra?: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `cuekit-sdk/${SDK_VERSION} node/${process.versions.node}`,
      ...this.headers,
      ...extra,
    }
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`
    if (hasBody) headers['content-type'] = 'application/json'
    return headers
  }

  private async once<T>(spec: RequestSpec<T>): Promise<T> {
    const signal = spec.options?.signal
    if (signal?.aborted) throw signal.reason
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    const timeoutMs = spec.options?.timeoutMs ?? this.timeoutMs
    const timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs)
    const hasBody = spec.body !== undefined
    try {
      const response = await this.fetchImpl(this.url(spec.path, spec.query), {
        method: spec.method,
        headers: this.requestHeaders(hasBody, spec.headers),
        body: hasBody ? JSON.stringify(spec.body) : null,
        signal: controller.signal,
      })
      if (!response.ok) throw await this.errorOf(response, spec.executionId)
      const text = await response.text()
      if (!spec.schema) return (text ? safeJson(text) : undefined) as T
      const json = safeJson(text)
      const parsed = spec.schema.safeParse(json)
      if (!parsed.success) {
        throw new InvalidResponseError(
          `${spec.method} ${spec.path}: the answer does not match the protocol: ${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}`,
          { code: 'invalid_response', status: response.status, details: parsed.error.issues },
        )
      }
      return parsed.data
    } catch (error) {
      if (error instanceof CuekitError) throw error
      if (signal?.aborted) throw signal.reason
      if (controller.signal.aborted && controller.signal.reason === TIMEOUT) {
        throw new ConnectionError(`${spec.method} ${spec.path} timed out after ${timeoutMs} ms`, {
          code: 'timeout',
          status: 0,
          executionId: spec.executionId,
        })
      }
      throw new ConnectionError(`cannot reach ${this.baseUrl}: ${describe(error)}`, {
        code: 'connection_error',
        status: 0,
        executionId: spec.executionId,
        cause: error,
      })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  private async errorOf(response: ResponseLike, executionId: string | undefined): Promise<CuekitError> {
    const text = await response.text().catch(() => '')
    const parsed = ErrorBody.safeParse(safeJson(text))
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'))
    if (parsed.success) return errorFromBody(parsed.data.error, { retryAfter, executionId })
    // Not our error shape: a proxy, or not a Cuekit server at all. Classify by status alone.
    return errorFromBody(
      {
        code: `http_${response.status}`,
        message: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
        status: response.status,
      },
      { retryAfter, executionId },
    )
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}

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
  constructor(private readonly client: Client) {}

  /**
   * `POST /v1/executions`. With `idempotencyKey` (sent as `Idempotency-Key`), the same key within
   * 24 h returns the first execution instead of creating another, so the call is retried safely.
   */
  enqueue(
    input: EnqueueInput,
    options: RequestOptions & { idempotencyKey?: string } = {},
  ): Promise<ExecutionRecord> {
    const key = options.idempotencyKey ?? input.idempotency_key
    return this.client.request({
      method: 'POST',
      path: '/v1/executions',
      body: input,
      headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined,
      schema: ExecutionRecord,
      safe: key !== undefined,
      options,
    })
  }

  /** `POST /v1/executions/bulk`: up to 1,000 executions in one call. */
  enqueueBulk(executions: EnqueueInput[], options?: RequestOptions): Promise<BulkEnqueueResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/executions/bulk',
      body: { executions },
      schema: BulkEnqueueResponse,
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
    return this.client.request({
      method: 'POST',
      path: '/v1/executions/claim',
      body: input,
      schema: ClaimResponse,
      safe: false,
      options: { ...options, timeoutMs: (options.timeoutMs ?? 15_000) + wait },
    })
  }

  /** `POST /v1/executions/{id}/claim` (CueAPI): leases this execution or throws {@link ClaimFailedError}. */
  claimById(executionId: string, input: ClaimByIdInput, options?: RequestOptions): Promise<ClaimResponse> {
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/claim`,
      body: input,
      schema: ClaimResponse,
      safe: false,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions/claimable` (CueAPI): up to 50 pending executions, informational. */
  claimable(query: { task?: string } = {}, options?: RequestOptions): Promise<ClaimableResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/executions/claimable',
      query,
      schema: ClaimableResponse,
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
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/heartbeat`,
      body: input,
      headers: input.worker_id ? { 'x-worker-id': input.worker_id } : undefined,
      schema: HeartbeatResponse,
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
    return this.client.request({
      method: 'POST',
      path: '/v1/executions/heartbeats',
      body: { leases },
      headers: options.workerId ? { 'x-worker-id': options.workerId } : undefined,
      schema: BatchHeartbeatResponse,
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
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/outcome`,
      body: input,
      schema: OutcomeResponse,
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

  /** `POST /v1/executions/outcomes`: up to 100 reports; each item succeeds or fails alone. */
  reportOutcomes(outcomes: BatchOutcomeInput[], options?: RequestOptions): Promise<BatchOutcomeResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/executions/outcomes',
      body: { outcomes },
      schema: BatchOutcomeResponse,
      safe: true,
      options,
    })
  }

  /** `POST /v1/executions/{id}/release`: gives the execution back without consuming an attempt. */
  release(executionId: string, input: ReleaseInput, options?: RequestOptions): Promise<TransitionResponse> {
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/release`,
      body: input,
      schema: TransitionResponse,
      safe: input.lease_token !== undefined,
      executionId,
      options,
    })
  }

  /** `POST /v1/executions/{id}/cancel`: cancels now, or asks the lease holder to stop. */
  cancel(executionId: string, options?: RequestOptions): Promise<TransitionResponse> {
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/cancel`,
      schema: TransitionResponse,
      safe: true,
      executionId,
      options,
    })
  }

  /** `POST /v1/executions/{id}/replay`: runs a terminal execution again as a new execution. */
  replay(executionId: string, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.request({
      method: 'POST',
      path: `/v1/executions/${id(executionId)}/replay`,
      schema: ExecutionRecord,
      safe: false,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions/{id}`: the record with its current lease (no token) and attempt history. */
  get(executionId: string, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.request({
      method: 'GET',
      path: `/v1/executions/${id(executionId)}`,
      schema: ExecutionRecord,
      safe: true,
      executionId,
      options,
    })
  }

  /** `GET /v1/executions`: one page, newest first; pass `next_cursor` back as `cursor`. */
  list(query: ListExecutionsInput = {}, options?: RequestOptions): Promise<ListExecutionsResponse> {
    const { status__in, ...rest } = query
    return this.client.request({
      method: 'GET',
      path: '/v1/executions',
      query: {
        ...rest,
        status__in: Array.isArray(status__in) ? status__in.join(',') : status__in,
      },
      schema: ListExecutionsResponse,
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

/**
 * `client.workers`: a worker's own heartbeat (with its handlers), the worker list, forgetting one.
 *
 * @example
 * ```ts
 * await client.workers.heartbeat({ worker_id: 'w1', handlers: ['send-email'] })
 * const { workers } = await client.workers.list()
 * ```
 */
export class WorkersApi {
  constructor(private readonly client: Client) {}

  /** `POST /v1/worker/heartbeat` (CueAPI): marks the worker alive and records its handlers. */
  heartbeat(input: WorkerHeartbeatInput, options?: RequestOptions): Promise<WorkerHeartbeatResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/worker/heartbeat',
      body: input,
      schema: WorkerHeartbeatResponse,
      safe: true,
      options,
    })
  }

  /** `GET /v1/workers`: state, handlers, leases in flight and counters per worker. */
  list(options?: RequestOptions): Promise<ListWorkersResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/workers',
      schema: ListWorkersResponse,
      safe: true,
      options,
    })
  }

  /** `DELETE /v1/workers/{id}`: forgets a worker; its leases end as usual. */
  async delete(workerId: string, options?: RequestOptions): Promise<void> {
    await this.client.request({
      method: 'DELETE',
      path: `/v1/workers/${encodeURIComponent(workerId)}`,
      safe: true,
      options,
    })
  }
}

/**
 * `client.leases`: live leases sorted by expiry, for dashboards and alerts.
 *
 * @example
 * ```ts
 * const { leases } = await client.leases.list({ expiring_within_seconds: 30 })
 * ```
 */
export class LeasesApi {
  constructor(private readonly client: Client) {}

  /** `GET /v1/leases`. */
  list(query: ListLeasesInput = {}, options?: RequestOptions): Promise<ListLeasesResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/leases',
      query: { ...query },
      schema: ListLeasesResponse,
      safe: true,
      options,
    })
  }
}

/**
 * `client.queues`: counts by status per task.
 *
 * @example
 * ```ts
 * const { queues } = await client.queues.list()
 * for (const q of queues) console.log(q.task, q.pending, q.oldest_pending_age_ms)
 * ```
 */
export class QueuesApi {
  constructor(private readonly client: Client) {}

  /** `GET /v1/queues`. */
  list(options?: RequestOptions): Promise<ListQueuesResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/queues',
      schema: ListQueuesResponse,
      safe: true,
      options,
    })
  }
}

/**
 * `client.tenants`: creating tenants; needs a client built with the admin key.
 *
 * @example
 * ```ts
 * const admin = new Client({ baseUrl, apiKey: process.env.CUEKIT_ADMIN_KEY })
 * const { tenant_id, api_key } = await admin.tenants.create({ name: 'acme' })
 * ```
 */
export class TenantsApi {
  constructor(private readonly client: Client) {}

  /** `POST /v1/tenants` (admin key): a new tenant and its first API key. */
  create(input: { name?: string } = {}, options?: RequestOptions): Promise<CreateTenantResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/tenants',
      body: input,
      schema: CreateTenantResponse,
      safe: false,
      options,
    })
  }
}

/**
 * `client.auth`: CueAPI's account endpoints.
 *
 * @example
 * ```ts
 * const { api_key } = await new Client({ baseUrl }).auth.register({ email: 'me@example.com' })
 * const me = await new Client({ baseUrl, apiKey: api_key }).auth.me()
 * ```
 */
export class AuthApi {
  constructor(private readonly client: Client) {}

  /** `POST /v1/auth/register` (no key needed; open registration only). */
  register(input: { email: string }, options?: RequestOptions): Promise<RegisterResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/auth/register',
      body: input,
      schema: RegisterResponse,
      safe: false,
      options,
    })
  }

  /** `GET /v1/auth/me`: the tenant behind this key. */
  me(options?: RequestOptions): Promise<MeResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/auth/me',
      schema: MeResponse,
      safe: true,
      options,
    })
  }

  /** `GET /v1/auth/webhook-secret`: the `whsec_…` secret webhook deliveries are signed with. */
  webhookSecret(options?: RequestOptions): Promise<WebhookSecretResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/auth/webhook-secret',
      schema: WebhookSecretResponse,
      safe: true,
      options,
    })
  }

  /** `POST /v1/auth/webhook-secret/regenerate`: a new webhook secret; the old one stops at once. */
  regenerateWebhookSecret(options?: RequestOptions): Promise<RegenerateWebhookSecretResponse> {
    return this.client.request({
      method: 'POST',
      path: '/v1/auth/webhook-secret/regenerate',
      schema: RegenerateWebhookSecretResponse,
      safe: false,
      options,
    })
  }

  /**
   * `POST /v1/auth/key/regenerate`: revokes this key and returns a new one, which this client
   * uses from then on.
   */
  async regenerateKey(options?: RequestOptions): Promise<RegenerateKeyResponse> {
    const answer = await this.client.request({
      method: 'POST',
      path: '/v1/auth/key/regenerate',
      schema: RegenerateKeyResponse,
      safe: false,
      options,
    })
    this.client.apiKey = answer.api_key
    return answer
  }
}

/**
 * `client.cues`: schedules, in CueAPI's shapes (answers parsed with the protocol's cue schemas).
 *
 * @example
 * ```ts
 * const cue = await client.cues.create({
 *   name: 'nightly-report',
 *   transport: 'worker',
 *   schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'Europe/Paris' },
 *   payload: { task: 'report' },
 * })
 * await client.cues.fire(cue.id, { payload_override: { day: '2026-01-01' } })
 * ```
 */
export class CuesApi {
  constructor(private readonly client: Client) {}

  /** `POST /v1/cues`. `warning` on the answer flags, e.g., a worker cue no worker serves yet. */
  create(input: CreateCueInput, options?: RequestOptions): Promise<CueRecord> {
    return this.client.request({
      method: 'POST',
      path: '/v1/cues',
      body: input,
      schema: CueRecord,
      safe: false,
      options,
    })
  }

  /** `GET /v1/cues`: offset paging, `limit` ≤ 100, optionally by `status`. */
  list(query: ListCuesInput = {}, options?: RequestOptions): Promise<ListCuesResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/cues',
      query: { ...query },
      schema: ListCuesResponse,
      safe: true,
      options,
    })
  }

  /** `GET /v1/cues/{id}`: the cue with its most recent executions. */
  get(
    cueId: string,
    query: { execution_limit?: number; execution_offset?: number } = {},
    options?: RequestOptions,
  ): Promise<CueDetail> {
    return this.client.request({
      method: 'GET',
      path: `/v1/cues/${id(cueId)}`,
      query: { ...query },
      schema: CueDetail,
      safe: true,
      options,
    })
  }

  /** `PATCH /v1/cues/{id}`: any subset of the fields. */
  update(cueId: string, input: UpdateCueInput, options?: RequestOptions): Promise<CueRecord> {
    return this.client.request({
      method: 'PATCH',
      path: `/v1/cues/${id(cueId)}`,
      body: input,
      schema: CueRecord,
      safe: true,
      options,
    })
  }

  /** Pauses the cue: `update` with `status: 'paused'`. */
  pause(cueId: string, options?: RequestOptions): Promise<CueRecord> {
    return this.update(cueId, { status: 'paused' }, options)
  }

  /** Resumes the cue: `update` with `status: 'active'`. */
  resume(cueId: string, options?: RequestOptions): Promise<CueRecord> {
    return this.update(cueId, { status: 'active' }, options)
  }

  /** `DELETE /v1/cues/{id}`. */
  async delete(cueId: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: `/v1/cues/${id(cueId)}`, safe: true, options })
  }

  /**
   * `POST /v1/cues/{id}/fire`: fires the cue now (or at `send_at`), optionally with a payload
   * override; returns the created execution. With `idempotency_key` it is retried safely.
   */
  fire(cueId: string, input: FireCueInput = {}, options?: RequestOptions): Promise<ExecutionRecord> {
    return this.client.request({
      method: 'POST',
      path: `/v1/cues/${id(cueId)}/fire`,
      body: input,
      schema: FireCueResponse,
      safe: typeof input.idempotency_key === 'string',
      options,
    })
  }
}

/**
 * `client.stats`: the tenant's ops overview (long-polls waiting, reaper lag, worker states).
 *
 * @example
 * ```ts
 * const { reaper, workers } = await client.stats.get()
 * if (reaper.overdue_leases > 0) console.warn('leases overdue by', reaper.oldest_overdue_ms, 'ms')
 * ```
 */
export class StatsApi {
  constructor(private readonly client: Client) {}

  /** `GET /v1/stats`. */
  get(options?: RequestOptions): Promise<StatsResponse> {
    return this.client.request({
      method: 'GET',
      path: '/v1/stats',
      schema: StatsResponse,
      safe: true,
      options,
    })
  }
}

/**
 * `client.events`: the tenant's execution state changes as server-sent events.
 *
 * @example
 * ```ts
 * const stop = new AbortController()
 * for await (const event of client.events.stream({ signal: stop.signal })) {
 *   console.log(event.execution_id, event.status)
 * }
 * ```
 */
export class EventsApi {
  constructor(private readonly client: Client) {}

  /** `GET /v1/events`: yields each `execution` event until `signal` aborts or the server ends the stream. */
  async *stream(options: { signal?: AbortSignal } = {}): AsyncGenerator<ExecutionEvent, void, undefined> {
    const response = await this.client.stream('/v1/events', options.signal)
    if (!response.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let name = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim()
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
          }
          if (name !== 'execution' || data.length === 0) continue
          const parsed = ExecutionEvent.safeParse(safeJson(data.join('\n')))
          if (parsed.success) yield parsed.data
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return
      throw new ConnectionError(`event stream ended: ${describe(error)}`, {
        code: 'connection_error',
        status: 0,
        cause: error,
      })
    }
  }
}
