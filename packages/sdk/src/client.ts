import { ErrorBody, type HttpRoute, ROUTES, type RouteAnswer, type UsageResponse } from '@cuekit/protocol'
import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts'
import { EventsApi } from './client/events.ts'
import { ExecutionsApi } from './client/executions.ts'
import { AlertsApi } from './client/outcomes.ts'
import {
  describe,
  type Requester,
  type RequestOptions,
  type RequestSpec,
  type RouteCall,
  routeRequest,
  safeJson,
} from './client/request.ts'
import {
  AuthApi,
  CuesApi,
  LeasesApi,
  QueuesApi,
  StatsApi,
  TenantsApi,
  WorkersApi,
} from './client/resources.ts'
import {
  ConnectionError,
  CuekitError,
  errorFromBody,
  InvalidResponseError,
  isRetryable,
  RateLimitError,
} from './errors.ts'
import { type FetchLike, nodeTransport, type ResponseLike } from './transport.ts'
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
const TIMEOUT = Symbol('timeout')

function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000)
}

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
export class Client implements Requester {
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
  readonly alerts: AlertsApi
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
    this.alerts = new AlertsApi(this)
  }

  /** `GET /health`: true when the process answers. Never throws. */
  async health(options?: RequestOptions): Promise<boolean> {
    try {
      await this.send(ROUTES.health, { safe: false, options })
      return true
    } catch {
      return false
    }
  }

  /** `GET /ready`: true when the server reaches its storage. Never throws. */
  async ready(options?: RequestOptions): Promise<boolean> {
    try {
      await this.send(ROUTES.ready, { safe: false, options })
      return true
    } catch {
      return false
    }
  }

  /** `GET /v1/usage`: this month's cues, executions and outcomes (CueAPI's shape, no limits). */
  usage(options?: RequestOptions): Promise<UsageResponse> {
    return this.send(ROUTES.usage, { safe: true, options })
  }

  /** @internal Calls one route of the protocol's table (see {@link request}). */
  send<R extends HttpRoute>(route: R, call: RouteCall): Promise<RouteAnswer<R>> {
    return this.request(routeRequest(route, call))
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
  async stream(route: HttpRoute, signal?: AbortSignal): Promise<ResponseLike> {
    const headers = this.requestHeaders(false, { accept: 'text/event-stream' })
    let response: ResponseLike
    try {
      response = await this.fetchImpl(this.url(route.path), {
        method: route.method.toUpperCase(),
        headers,
        signal: signal ?? null,
      })
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
