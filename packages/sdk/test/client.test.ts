import { freePort } from '@cuekit/scripts/lib/ports'
import {
  Client,
  ConnectionError,
  ExecutionCancelledError,
  ForbiddenError,
  InvalidResponseError,
  LeaseLostError,
  NotFoundError,
  OutcomeAlreadyReportedError,
  RateLimitError,
  ServerError,
  ServerUnavailableError,
  UnauthorizedError,
  ValidationError,
  Worker,
} from '@cuekit/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { fakeServer, json } from './helpers.ts'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

async function serve(route: Parameters<typeof fakeServer>[0]) {
  const fake = await fakeServer(route)
  closers.push(fake.close)
  return fake
}

const error = (code: string, status: number, extra: Record<string, unknown> = {}) => ({
  error: { code, message: `${code} happened`, status, ...extra },
})

describe('Client errors', () => {
  it('maps error codes to typed errors with code, status, details and Retry-After', async () => {
    const answers: Record<string, [number, unknown, Record<string, string>?]> = {
      '/lease': [409, error('lease_lost', 409)],
      '/owner': [403, error('not_execution_owner', 403)],
      '/reported': [409, error('outcome_already_reported', 409)],
      '/cancelled': [409, error('execution_cancelled', 409)],
      '/forbidden': [403, error('forbidden', 403)],
      '/missing': [404, error('execution_not_found', 404)],
      '/invalid': [
        422,
        error('validation_error', 422, { details: [{ path: 'task', message: 'too short' }] }),
      ],
      '/auth': [401, error('unauthorized', 401)],
      '/limited': [429, error('rate_limited', 429), { 'retry-after': '7' }],
      '/down': [503, error('storage_unavailable', 503)],
      '/boom': [500, error('internal_error', 500)],
    }
    const fake = await serve((req, _body, res) => {
      const [status, body, headers] = answers[req.url ?? ''] ?? [404, {}]
      json(res, status, body, headers)
    })
    const client = new Client({ baseUrl: fake.url, apiKey: 'cue_sk_x', maxRetries: 0 })
    const get = (path: string) =>
      client.request({ method: 'GET', path, safe: false }).catch((e: unknown) => e)

    const lease = await get('/lease')
    expect(lease).toBeInstanceOf(LeaseLostError)
    expect(lease).toMatchObject({ code: 'lease_lost', status: 409, message: 'lease_lost happened' })
    expect(await get('/owner')).toBeInstanceOf(LeaseLostError)
    expect(await get('/reported')).toBeInstanceOf(OutcomeAlreadyReportedError)
    expect(await get('/cancelled')).toBeInstanceOf(ExecutionCancelledError)
    expect(await get('/forbidden')).toBeInstanceOf(ForbiddenError)
    expect(await get('/missing')).toMatchObject({ code: 'execution_not_found', status: 404 })
    expect(await get('/missing')).toBeInstanceOf(NotFoundError)
    const invalid = await get('/invalid')
    expect(invalid).toBeInstanceOf(ValidationError)
    expect((invalid as ValidationError).details).toEqual([{ path: 'task', message: 'too short' }])
    expect(await get('/auth')).toBeInstanceOf(UnauthorizedError)
    const limited = await get('/limited')
    expect(limited).toBeInstanceOf(RateLimitError)
    expect((limited as RateLimitError).retryAfter).toBe(7)
    expect(await get('/down')).toBeInstanceOf(ServerUnavailableError)
    expect(await get('/boom')).toBeInstanceOf(ServerError)
  })

  it('classifies a non-JSON error page by its status', async () => {
    const fake = await serve((_req, _body, res) => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end('<h1>Bad Gateway</h1>')
    })
    const client = new Client({ baseUrl: fake.url, maxRetries: 0 })
    const e = await client.executions.get('exec_1').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ServerUnavailableError)
    expect(e).toMatchObject({ code: 'http_502', status: 502, executionId: 'exec_1' })
  })

  it('an answer that breaks the protocol is an InvalidResponseError with the issues', async () => {
    const fake = await serve((_req, _body, res) => json(res, 200, { workers: [{ worker_id: 1 }] }))
    const e = await new Client({ baseUrl: fake.url }).workers.list().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(InvalidResponseError)
    expect((e as InvalidResponseError).message).toContain('workers.0.worker_id')
  })

  it('a refused connection is a ConnectionError with status 0', async () => {
    const port = await freePort()
    const client = new Client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 })
    const e = await client.queues.list().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ConnectionError)
    expect(e).toMatchObject({ code: 'connection_error', status: 0 })
  })

  it('a request that takes too long times out as ConnectionError code timeout', async () => {
    const fake = await serve(() => {
      // Never answers.
    })
    const client = new Client({ baseUrl: fake.url, timeoutMs: 100, maxRetries: 0 })
    const started = Date.now()
    const e = await client.queues.list().catch((x: unknown) => x)
    expect(e).toMatchObject({ name: 'ConnectionError', code: 'timeout' })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('an aborted call rejects with the signal reason, not a wrapped error', async () => {
    const fake = await serve(() => {})
    const controller = new AbortController()
    const pending = new Client({ baseUrl: fake.url }).queues.list({ signal: controller.signal })
    const reason = new Error('user gave up')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })
})

describe('Client retries', () => {
  it('retries safe requests after 503/429 (honouring Retry-After), never unsafe ones', async () => {
    const seen: string[] = []
    const fake = await serve((req, _body, res) => {
      seen.push(`${req.method} ${req.url}`)
      const n = seen.filter((s) => s === `${req.method} ${req.url}`).length
      if (req.url === '/v1/queues' && n === 1) return json(res, 503, error('storage_unavailable', 503))
      if (req.url === '/v1/queues' && n === 2) {
        return json(res, 429, error('rate_limited', 429), { 'retry-after': '0' })
      }
      if (req.url === '/v1/queues') return json(res, 200, { queues: [] })
      json(res, 503, error('shutting_down', 503))
    })
    const client = new Client({ baseUrl: fake.url, maxRetries: 2, backoff: { initialMs: 1, maxMs: 5 } })
    expect(await client.queues.list()).toEqual({ queues: [] })
    expect(seen.filter((s) => s === 'GET /v1/queues')).toHaveLength(3)

    await expect(client.executions.claim({ worker_id: 'w' })).rejects.toBeInstanceOf(ServerUnavailableError)
    expect(seen.filter((s) => s === 'POST /v1/executions/claim')).toHaveLength(1)
    // An enqueue is only retried when an idempotency key makes it safe.
    await expect(client.executions.enqueue({ task: 't' })).rejects.toBeInstanceOf(ServerUnavailableError)
    expect(seen.filter((s) => s === 'POST /v1/executions')).toHaveLength(1)
    await expect(client.executions.enqueue({ task: 't' }, { idempotencyKey: 'k1' })).rejects.toBeInstanceOf(
      ServerUnavailableError,
    )
    expect(seen.filter((s) => s === 'POST /v1/executions')).toHaveLength(4)
  })
})

describe('Client requests', () => {
  it('sends the bearer key, JSON, the Idempotency-Key and X-Worker-Id headers', async () => {
    const requests: { url: string; headers: Record<string, unknown>; body: unknown }[] = []
    const fake = await serve((req, body, res) => {
      requests.push({ url: req.url ?? '', headers: req.headers, body })
      json(res, 200, { results: [] })
    })
    const client = new Client({ baseUrl: `${fake.url}/`, apiKey: 'cue_sk_abc' })
    await client.executions.heartbeats([{ execution_id: 'e1', lease_token: 't1' }], { workerId: 'w-1' })
    await client.executions.enqueue({ task: 'x' }, { idempotencyKey: 'key-1' }).catch(() => {})
    const [beat, enqueue] = requests
    expect(beat?.url).toBe('/v1/executions/heartbeats')
    expect(beat?.headers).toMatchObject({
      authorization: 'Bearer cue_sk_abc',
      'content-type': 'application/json',
      'x-worker-id': 'w-1',
    })
    expect(String(beat?.headers['user-agent'])).toMatch(/^cuekit-sdk\/\d+\.\d+\.\d+ node\//)
    expect(beat?.body).toEqual({ leases: [{ execution_id: 'e1', lease_token: 't1' }] })
    expect(enqueue?.headers['idempotency-key']).toBe('key-1')
  })

  it('iterate() follows cursors and list() joins status__in', async () => {
    const urls: string[] = []
    const summary = (id: string) => ({
      execution_id: id,
      id,
      task: 't',
      payload: null,
      status: 'failed',
      attempt: 1,
      max_attempts: 1,
      priority: 0,
      backoff_seconds: [],
      cue_id: null,
      cue_name: null,
      scheduled_for: '2026-01-01T00:00:00.000Z',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      finished_at: null,
      next_attempt_at: null,
      lease: null,
      cancel_requested: false,
      replayed_from: null,
      triggered_by: 'api',
      chain_parent_id: null,
      chain_depth: 0,
      idempotency_key: null,
      error_message: null,
      failure_reason: null,
      attempts: 1,
      http_status: null,
      started_at: null,
      delivered_at: null,
      last_attempt_at: null,
      claimed_by_worker: null,
      claimed_at: null,
      last_heartbeat_at: null,
      outcome_state: null,
      outcome: null,
    })
    const fake = await serve((req, _body, res) => {
      urls.push(req.url ?? '')
      const cursor = new URL(req.url ?? '', 'http://x').searchParams.get('cursor')
      if (cursor === null)
        return json(res, 200, {
          executions: [summary('a'), summary('b')],
          total: 3,
          limit: 2,
          offset: 0,
          next_cursor: 'c2',
          has_more: true,
        })
      json(res, 200, {
        executions: [summary('c')],
        total: 3,
        limit: 2,
        offset: 0,
        next_cursor: null,
        has_more: false,
      })
    })
    const client = new Client({ baseUrl: fake.url })
    const ids: string[] = []
    for await (const e of client.executions.iterate({ status__in: ['failed', 'cancelled'], limit: 2 })) {
      ids.push(e.execution_id)
    }
    expect(ids).toEqual(['a', 'b', 'c'])
    expect(urls[0]).toBe('/v1/executions?limit=2&status__in=failed%2Ccancelled')
    expect(urls[1]).toContain('cursor=c2')
  })
})

describe('Worker options', () => {
  it('refuses what the server would refuse on every claim', () => {
    const handlers = { ok: async () => 1 }
    expect(() => new Worker({ apiKey: 'k', handlers: {} })).toThrow(/at least one handler/)
    expect(() => new Worker({ apiKey: 'k', handlers: { 'a\nb': async () => 1 } })).toThrow(
      /invalid task name/,
    )
    expect(() => new Worker({ apiKey: 'k', workerId: '', handlers })).toThrow(/invalid workerId/)
    expect(() => new Worker({ apiKey: 'k', leaseSeconds: 0.5, handlers })).toThrow(/leaseSeconds/)
    expect(() => new Worker({ apiKey: 'k', concurrency: 0, handlers })).toThrow(/concurrency/)
    expect(() => new Worker({ apiKey: 'k', prefetch: -1, handlers })).toThrow(/prefetch/)
    expect(() => new Worker({ apiKey: 'k', prefetch: 1.5, handlers })).toThrow(/prefetch/)
    expect(() => new Worker({ apiKey: 'k', parallelClaims: 0, handlers })).toThrow(/parallelClaims/)
    expect(new Worker({ apiKey: 'k', prefetch: 0, parallelClaims: 1, handlers }).concurrency).toBe(1)
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, async () => i]))
    expect(() => new Worker({ apiKey: 'k', handlers: many })).toThrow(/at most 50/)
    expect(new Worker({ apiKey: 'k', handlers }).workerId).toMatch(/-\d+$/)
  })
})

describe('client.events.stream', () => {
  it('yields every execution event whatever the chunk boundaries, CRLF split across chunks included', async () => {
    const event = (id: string) => ({
      type: 'execution',
      execution_id: id,
      task: 't',
      status: 'pending',
      attempt: 0,
      worker_id: null,
      at: '2026-01-01T00:00:00.000Z',
    })
    const text =
      `event: ready\r\ndata: {}\r\n\r\n: keep-alive\r\n\r\n` +
      `event: execution\r\ndata: ${JSON.stringify(event('e1'))}\r\nid: e1:1\r\n\r\n` +
      `event: execution\rdata: ${JSON.stringify(event('e2'))}\r\r`
    const bytes = new TextEncoder().encode(text)
    for (let cut = 1; cut < bytes.length; cut++) {
      const fetchImpl = (async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes.slice(0, cut))
              controller.enqueue(bytes.slice(cut))
              controller.close()
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        )) as typeof fetch
      const client = new Client({ apiKey: 'cue_sk_x', fetch: fetchImpl })
      const ids: string[] = []
      for await (const e of client.events.stream()) ids.push(e.execution_id)
      expect(ids, `cut at ${cut}`).toEqual(['e1', 'e2'])
    }
  })
})
