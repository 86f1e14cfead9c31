import { ERROR_CODES } from '@cuekit/protocol'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, makeApp, type TestApp } from './helpers.ts'

// Every route and error code through app.request() (docs/architecture.md#http-contract).

async function enqueue(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/v1/executions', { task: 'job', ...body })
  expect(r.status).toBe(201)
  return r.body.execution_id as string
}

async function claim(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', lease_seconds: 600, ...body })
  expect(r.status).toBe(200)
  expect(r.body.claimed).toBe(true)
  return r.body.executions[0] as {
    execution_id: string
    attempt: number
    lease: { token: string; epoch: number }
  }
}

function expectError(r: { status: number; body: any }, code: keyof typeof ERROR_CODES) {
  expect(r.body?.error?.code, JSON.stringify(r.body)).toBe(code)
  expect(r.status).toBe(ERROR_CODES[code].status)
  expect(r.body.error.status).toBe(ERROR_CODES[code].status)
  expect(typeof r.body.error.message).toBe('string')
}

describe('ops', () => {
  it('health, ready, metrics, openapi and docs', async () => {
    const t = await makeApp()
    expect((await t.json('GET', '/health')).body).toEqual({ status: 'ok' })
    expect((await t.json('GET', '/ready')).body).toEqual({ status: 'ready' })
    const metrics = await (await t.call('GET', '/metrics')).text()
    for (const name of [
      'cuekit_claims_total',
      'cuekit_lease_expirations_total',
      'cuekit_claim_wait_seconds',
      'cuekit_waiting_long_polls',
      'cuekit_reaper_lag_seconds',
      'cuekit_executions',
    ]) {
      expect(metrics).toContain(name)
    }
    const doc = (await t.json('GET', '/openapi.json')).body
    expect(doc.openapi).toBe('3.1.0')
    for (const path of [
      '/v1/executions',
      '/v1/executions/bulk',
      '/v1/executions/claim',
      '/v1/executions/{id}/claim',
      '/v1/executions/claimable',
      '/v1/executions/{id}/heartbeat',
      '/v1/executions/heartbeats',
      '/v1/executions/{id}/outcome',
      '/v1/executions/outcomes',
      '/v1/executions/{id}/release',
      '/v1/executions/{id}/cancel',
      '/v1/executions/{id}/replay',
      '/v1/executions/{id}',
      '/v1/tenants',
      '/v1/auth/register',
      '/v1/auth/me',
      '/v1/auth/key/regenerate',
      '/v1/worker/heartbeat',
      '/v1/workers/heartbeat',
      '/v1/workers',
      '/v1/workers/{id}',
      '/v1/leases',
      '/v1/queues',
      '/v1/events',
    ]) {
      expect(doc.paths[path], path).toBeDefined()
    }
    expect(
      doc.paths['/v1/executions/claim'].post.requestBody.content['application/json'].schema.required,
    ).toContain('worker_id')
    const docs = await t.call('GET', '/docs')
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain('/openapi.json')
  })

  it('unknown routes are 404, a wrong method 405 with Allow', async () => {
    const t = await makeApp()
    expectError(await t.json('GET', '/v1/nothing'), 'not_found')
    const r = await t.json('PUT', '/v1/executions')
    expectError(r, 'method_not_allowed')
    expect(r.headers.get('allow')).toBe('POST, GET')
  })

  it('every response carries a request id, echoing a sane one', async () => {
    const t = await makeApp()
    expect(
      (await t.call('GET', '/health', undefined, { 'x-request-id': 'abc-123' })).headers.get('x-request-id'),
    ).toBe('abc-123')
    expect(
      (await t.call('GET', '/health', undefined, { 'x-request-id': 'bad id\n' })).headers.get('x-request-id'),
    ).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('auth and tenancy', () => {
  it('refuses missing, malformed and unknown keys with 401', async () => {
    const t = await makeApp()
    for (const auth of [undefined, 'Bearer', 'Bearer nope', 'Basic abc', `Bearer cue_sk_${'0'.repeat(32)}`]) {
      const res = await t.cuekit.app.request('/v1/queues', { headers: auth ? { authorization: auth } : {} })
      expectError({ status: res.status, body: await res.json() }, 'unauthorized')
    }
  })

  it('creates tenants with the admin key only', async () => {
    const t = await makeApp()
    expectError(await t.json('POST', '/v1/tenants', {}), 'forbidden')
    const r = await t.json('POST', '/v1/tenants', { name: 'acme' }, { authorization: `Bearer ${ADMIN_KEY}` })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ name: 'acme' })
    expect(r.body.api_key).toMatch(/^cue_sk_[0-9a-f]{32}$/)
    const me = await t.cuekit.app.request('/v1/auth/me', {
      headers: { authorization: `Bearer ${r.body.api_key}` },
    })
    expect(await me.json()).toMatchObject({ tenant_id: r.body.tenant_id, name: 'acme' })
    const noAdmin = await makeApp({ adminKey: null })
    expectError(
      await noAdmin.json('POST', '/v1/tenants', {}, { authorization: `Bearer ${ADMIN_KEY}` }),
      'forbidden',
    )
  })

  it('CueAPI registration: closed by default, open on request, one account per email', async () => {
    const closed = await makeApp()
    expectError(
      await closed.json('POST', '/v1/auth/register', { email: 'a@example.com' }),
      'registration_closed',
    )
    const t = await makeApp({ openRegistration: true })
    const r = await t.json('POST', '/v1/auth/register', { email: 'Dev@Example.com' })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ email: 'dev@example.com' })
    expectError(await t.json('POST', '/v1/auth/register', { email: 'dev@example.com' }), 'duplicate_email')
    expectError(await t.json('POST', '/v1/auth/register', { email: 'not-an-email' }), 'validation_error')
  })

  it('regenerating the key revokes the old one', async () => {
    const t = await makeApp()
    const r = await t.json('POST', '/v1/auth/key/regenerate')
    expect(r.status).toBe(200)
    expect(r.body.api_key).not.toBe(t.apiKey)
    expectError(await t.json('GET', '/v1/auth/me'), 'unauthorized')
    const me = await t.cuekit.app.request('/v1/auth/me', {
      headers: { authorization: `Bearer ${r.body.api_key}` },
    })
    expect(me.status).toBe(200)
  })

  it('parallel regenerations: one wins, the others are refused, and only the winning key works', async () => {
    const t = await makeApp()
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.json('POST', '/v1/auth/key/regenerate')),
    )
    const won = answers.filter((r) => r.status === 200)
    expect(won).toHaveLength(1)
    for (const r of answers.filter((a) => a.status !== 200)) expectError(r, 'unauthorized')
    const status = async (key: string) =>
      (await t.cuekit.app.request('/v1/auth/me', { headers: { authorization: `Bearer ${key}` } })).status
    expect(await status(t.apiKey)).toBe(401)
    const key = won[0]!.body.api_key as string
    expect(await status(key)).toBe(200)
    // The next rotation revokes it: no key outlives the rotations.
    const next = await t.cuekit.app.request('/v1/auth/key/regenerate', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    })
    const { api_key } = (await next.json()) as { api_key: string }
    expect(await status(key)).toBe(401)
    expect(await status(api_key)).toBe(200)
  })

  it("another tenant's execution, lease and worker are 404 on every route", async () => {
    const t = await makeApp()
    const id = await enqueue(t)
    const c = await claim(t, { worker_id: 'owner-worker' })
    const other = await t.newTenant()
    const as = { authorization: `Bearer ${other.apiKey}` }
    for (const [method, path, body] of [
      ['GET', `/v1/executions/${id}`, undefined],
      ['POST', `/v1/executions/${id}/claim`, { worker_id: 'x' }],
      ['POST', `/v1/executions/${id}/heartbeat`, { lease_token: c.lease.token }],
      ['POST', `/v1/executions/${id}/outcome`, { lease_token: c.lease.token, success: true }],
      ['POST', `/v1/executions/${id}/release`, { lease_token: c.lease.token }],
      ['POST', `/v1/executions/${id}/cancel`, undefined],
      ['POST', `/v1/executions/${id}/replay`, undefined],
    ] as const) {
      expectError(await t.json(method, path, body, as), 'execution_not_found')
    }
    const batch = await t.json(
      'POST',
      '/v1/executions/outcomes',
      { outcomes: [{ execution_id: id, lease_token: c.lease.token, success: true }] },
      as,
    )
    expect(batch.body.results[0].error.code).toBe('execution_not_found')
    expect((await t.json('GET', '/v1/leases', undefined, as)).body.leases).toEqual([])
    expect((await t.json('GET', '/v1/workers', undefined, as)).body.workers).toEqual([])
    expect((await t.json('GET', '/v1/executions', undefined, as)).body.executions).toEqual([])
    expectError(await t.json('DELETE', '/v1/workers/owner-worker', undefined, as), 'worker_not_found')
    expect((await t.json('GET', `/v1/executions/${id}`)).body.status).toBe('delivering')
  })

  it('rate limits per key with X-RateLimit-* headers and Retry-After', async () => {
    const t = await makeApp({ rateLimit: 1 })
    const first = await t.call('GET', '/v1/queues')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit')).toBe('2')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
    expect((await t.call('GET', '/v1/queues')).status).toBe(200)
    const limited = await t.json('GET', '/v1/queues')
    expectError(limited, 'rate_limited')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
  })
})

describe('hostile input', () => {
  it('malformed JSON 400, wrong types and unknown fields 422 with details, huge bodies 413; nothing is stored', async () => {
    const t = await makeApp()
    expectError(await t.json('POST', '/v1/executions', '{"task": '), 'invalid_json')
    const wrong = await t.json('POST', '/v1/executions', { task: 5, max_attempts: 'x' })
    expectError(wrong, 'validation_error')
    expect(wrong.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'max_attempts',
      'task',
    ])
    expectError(await t.json('POST', '/v1/executions', { nope: 1 }), 'validation_error')
    expectError(await t.json('POST', '/v1/executions', { task: 'x'.repeat(201) }), 'validation_error')
    expectError(
      await t.json('POST', '/v1/executions', { payload: 'x'.repeat(1024 * 1024) }),
      'payload_too_large',
    )
    expectError(
      await t.json('POST', '/v1/executions/bulk', { executions: Array.from({ length: 1001 }, () => ({})) }),
      'validation_error',
    )
    expectError(
      await t.json('POST', '/v1/executions/bulk', { executions: [{}, { max_attempts: 0 }] }),
      'validation_error',
    )
    expect((await t.json('GET', '/v1/queues')).body.queues).toEqual([])
  })

  it('accepts JSON sent without a JSON content type (curl -d)', async () => {
    const t = await makeApp()
    const r = await t.cuekit.app.request('/v1/executions', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"task":"curl"}',
    })
    expect(r.status).toBe(201)
    expect(((await r.json()) as { task: string }).task).toBe('curl')
  })

  it('out-of-range query parameters are 422, never clamped', async () => {
    const t = await makeApp()
    for (const q of ['limit=101', 'limit=0', 'limit=abc', 'status=bogus', 'cursor=%21%21', 'unknown=1']) {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.body.error.code, q).toMatch(/validation_error|invalid_cursor/)
      expect(r.status).toBe(422)
    }
    expectError(await t.json('GET', '/v1/leases?expiring_within_seconds=-1'), 'validation_error')
  })
})

describe('executions', () => {
  it('enqueue answers the record; Idempotency-Key returns the first execution with 200', async () => {
    const t = await makeApp()
    const r = await t.json(
      'POST',
      '/v1/executions',
      { task: 'email', payload: { to: 'x' } },
      { 'idempotency-key': 'k-1' },
    )
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({
      task: 'email',
      status: 'pending',
      payload: { to: 'x' },
      idempotency_key: 'k-1',
      attempts: 0,
      history: [],
    })
    expect(r.body.id).toBe(r.body.execution_id)
    const again = await t.json(
      'POST',
      '/v1/executions',
      { payload: { to: 'x' }, task: 'email' },
      { 'idempotency-key': 'k-1' },
    )
    expect(again.status).toBe(200)
    expect(again.body.execution_id).toBe(r.body.execution_id)
    expectError(
      await t.json('POST', '/v1/executions', { task: 'other' }, { 'idempotency-key': 'k-1' }),
      'idempotency_key_reused',
    )
    expectError(
      await t.json('POST', '/v1/executions', { idempotency_key: 'a' }, { 'idempotency-key': 'b' }),
      'validation_error',
    )
    const bulk = await t.json('POST', '/v1/executions/bulk', {
      executions: [{ task: 'a' }, { task: 'b', delay_seconds: 60 }],
    })
    expect(bulk.status).toBe(201)
    expect(bulk.body.execution_ids).toHaveLength(2)
  })

  it('enqueue requires task (422 naming it), in bulk items too; nothing is stored', async () => {
    const t = await makeApp()
    for (const body of [undefined, {}, { payload: { to: 'x' } }]) {
      const r = await t.json('POST', '/v1/executions', body)
      expectError(r, 'validation_error')
      expect(r.body.error.message).toContain('task')
      expect(r.body.error.details[0].path).toBe('task')
    }
    const bulk = await t.json('POST', '/v1/executions/bulk', { executions: [{ task: 'a' }, { payload: 1 }] })
    expectError(bulk, 'validation_error')
    expect(bulk.body.error.details[0].path).toBe('executions.1.task')
    expect((await t.json('GET', '/v1/executions')).body.executions).toEqual([])
  })

  it('claim-next: nothing claimable, a batch, bounds, and a wait longer than the server allows', async () => {
    const t = await makeApp({ maxWaitSeconds: 5 })
    expect((await t.json('POST', '/v1/executions/claim', { worker_id: 'w' })).body).toEqual({
      claimed: false,
      executions: [],
    })
    await t.json('POST', '/v1/executions/bulk', { executions: [{ task: 'a' }, { task: 'a' }, { task: 'b' }] })
    const r = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w',
      task: ['a'],
      max: 5,
      lease_seconds: 30,
    })
    expect(r.body.claimed).toBe(true)
    expect(r.body.lease_seconds).toBe(30)
    expect(r.body.executions).toHaveLength(2)
    expect(r.body.execution_id).toBe(r.body.executions[0].execution_id)
    expect(r.body.executions[0]).toMatchObject({
      task: 'a',
      attempt: 1,
      cue_id: null,
      lease: { epoch: 1, lease_seconds: 30 },
    })
    expectError(
      await t.json('POST', '/v1/executions/claim', { worker_id: 'w', wait_seconds: 6 }),
      'validation_error',
    )
    expectError(
      await t.json('POST', '/v1/executions/claim', { worker_id: 'w', max: 101 }),
      'validation_error',
    )
    expectError(await t.json('POST', '/v1/executions/claim', {}), 'validation_error')
    expectError(
      await t.json('POST', '/v1/executions/claim', { worker_id: 'w', lease_seconds: 43_201 }),
      'validation_error',
    )
  })

  it('a claim can carry outcome reports: recorded item by item, answered in results', async () => {
    const t = await makeApp()
    await t.json('POST', '/v1/executions/bulk', { executions: [{ task: 'p' }, { task: 'p' }, { task: 'p' }] })
    const first = await t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: 'p', max: 2 })
    expect(first.body.results).toBeUndefined()
    const [a, b] = first.body.executions
    const next = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w',
      task: 'p',
      max: 5,
      outcomes: [
        {
          execution_id: a.execution_id,
          lease_token: a.lease.token,
          success: true,
          result: { rows: 3 },
          external_id: 'ext-1',
        },
        { execution_id: b.execution_id, lease_token: 'stale', success: true },
      ],
    })
    expect(next.status).toBe(200)
    expect(next.body.executions).toHaveLength(1)
    expect(next.body.results).toEqual([
      expect.objectContaining({ execution_id: a.execution_id, status: 'success' }),
      { execution_id: b.execution_id, error: expect.objectContaining({ code: 'lease_lost', status: 409 }) },
    ])
    const recorded = (await t.json('GET', `/v1/executions/${a.execution_id}`)).body
    expect(recorded.status).toBe('success')
    // The outcome as sent: the batch item's own fields (execution, lease token) are not evidence.
    expect(recorded.outcome).toEqual({
      success: true,
      result: { rows: 3 },
      external_id: 'ext-1',
      recorded_at: expect.any(String),
      validation_state: null,
    })
    // As stored, too (the API's schema would hide a stray field).
    const core = t.engine.core
    const ref = core.refOf(t.tenant, a.execution_id)
    const stored = await core.redis.hget(core.keys.outcomes(ref), a.execution_id)
    expect(JSON.parse(stored!)).toEqual({ success: true, result: { rows: 3 }, external_id: 'ext-1' })
    expectError(
      await t.json('POST', '/v1/executions/claim', {
        worker_id: 'w',
        outcomes: [{ execution_id: 'x', success: true }],
      }),
      'validation_error',
    )
  })

  it('a long-poll wakes as soon as something is enqueued', async () => {
    const t = await makeApp({ waiterRecheckMs: 60_000 })
    const started = Date.now()
    const pending = t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: 'late', wait_seconds: 20 })
    await waitFor(() => t.cuekit.services.waiters.size === 1)
    const id = await enqueue(t, { task: 'late' })
    const r = await pending
    expect(r.body.execution_id).toBe(id)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('claim by id, then claim_failed; unknown is 404; claimable lists what is pending', async () => {
    const t = await makeApp()
    const id = await enqueue(t, { task: 'x', payload: { n: 1 } })
    const listed = await t.json('GET', '/v1/executions/claimable?task=x')
    expect(listed.body.executions).toEqual([
      expect.objectContaining({ execution_id: id, task: 'x', payload: { n: 1 }, attempt: 0 }),
    ])
    const r = await t.json('POST', `/v1/executions/${id}/claim`, { worker_id: 'w', lease_seconds: 10 })
    expect(r.body).toMatchObject({ claimed: true, execution_id: id, lease_seconds: 10 })
    expect(r.body.executions[0].lease.token).toBeTruthy()
    expectError(await t.json('POST', `/v1/executions/${id}/claim`, { worker_id: 'w' }), 'claim_failed')
    expectError(await t.json('POST', '/v1/executions/nope/claim', { worker_id: 'w' }), 'execution_not_found')
    expect((await t.json('GET', '/v1/executions/claimable')).body.executions).toEqual([])
  })

  it('heartbeat: extends; lease_lost, not_execution_owner, execution_cancelled; token required when configured', async () => {
    const t = await makeApp()
    const id = await enqueue(t)
    const c = await claim(t, { worker_id: 'me' })
    const ok = await t.json('POST', `/v1/executions/${id}/heartbeat`, {
      lease_token: c.lease.token,
      extend_seconds: 100,
    })
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ acknowledged: true, lease: { heartbeats: 1, worker_id: 'me' } })
    expect(ok.body.lease_extended_until).toBe(ok.body.lease.expires_at)
    expectError(
      await t.json('POST', `/v1/executions/${id}/heartbeat`, { lease_token: 'stale' }),
      'lease_lost',
    )
    expectError(
      await t.json('POST', `/v1/executions/${id}/heartbeat`, {}, { 'x-worker-id': 'someone-else' }),
      'not_execution_owner',
    )
    expect((await t.json('POST', `/v1/executions/${id}/heartbeat`, {}, { 'x-worker-id': 'me' })).status).toBe(
      200,
    )
    expect((await t.json('POST', `/v1/executions/${id}/cancel`)).body).toMatchObject({
      status: 'delivering',
      cancel_requested: true,
    })
    expectError(
      await t.json('POST', `/v1/executions/${id}/heartbeat`, { lease_token: c.lease.token }),
      'execution_cancelled',
    )
    const strict = await makeApp({ requireLeaseToken: true })
    const sid = await enqueue(strict)
    await claim(strict)
    expectError(await strict.json('POST', `/v1/executions/${sid}/heartbeat`, {}), 'lease_token_required')
    expectError(
      await strict.json('POST', `/v1/executions/${sid}/outcome`, { success: true }),
      'lease_token_required',
    )
  })

  it('outcome: recorded once, repeated with the first answer, conflicting 409, stale 409', async () => {
    const t = await makeApp()
    const id = await enqueue(t)
    const c = await claim(t)
    const body = {
      lease_token: c.lease.token,
      success: true,
      result: { ok: 1 },
      summary: 'done',
      external_id: 'e-1',
    }
    const first = await t.json('POST', `/v1/executions/${id}/outcome`, body)
    expect(first.body).toEqual({
      execution_id: id,
      status: 'success',
      attempt: 1,
      outcome_recorded: true,
      next_attempt_at: null,
      outcome_state: 'reported_success',
      reason: null,
    })
    expect((await t.json('POST', `/v1/executions/${id}/outcome`, body)).body).toEqual(first.body)
    expectError(
      await t.json('POST', `/v1/executions/${id}/outcome`, { lease_token: c.lease.token, success: false }),
      'outcome_already_reported',
    )
    expectError(
      await t.json('POST', `/v1/executions/${id}/outcome`, { lease_token: 'other', success: true }),
      'lease_lost',
    )
    const rec = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(rec.outcome).toMatchObject({
      success: true,
      result: { ok: 1 },
      summary: 'done',
      external_id: 'e-1',
    })
    expect(rec.history).toHaveLength(1)
  })

  it('a failure retries with backoff, retry: false fails at once', async () => {
    const t = await makeApp()
    const id = await enqueue(t, { backoff_seconds: [30] })
    const c = await claim(t)
    const r = await t.json('POST', `/v1/executions/${id}/outcome`, {
      lease_token: c.lease.token,
      success: false,
      error: 'flaky',
    })
    expect(r.body).toMatchObject({ status: 'retrying', attempt: 1 })
    expect(r.body.next_attempt_at).toBeTruthy()
    const id2 = await enqueue(t)
    const c2 = await claim(t)
    expect(c2.execution_id).toBe(id2)
    const r2 = await t.json('POST', `/v1/executions/${id2}/outcome`, {
      lease_token: c2.lease.token,
      success: false,
      retry: false,
    })
    expect(r2.body.status).toBe('failed')
  })

  it('batch heartbeats and outcomes: each item on its own', async () => {
    const t = await makeApp()
    const a = await enqueue(t)
    const b = await enqueue(t)
    const ca = await claim(t)
    const cb = await claim(t)
    const hb = await t.json('POST', '/v1/executions/heartbeats', {
      leases: [
        { execution_id: a, lease_token: ca.lease.token },
        { execution_id: b, lease_token: 'wrong' },
        { execution_id: 'missing', lease_token: 'x' },
      ],
    })
    expect(hb.status).toBe(200)
    expect(hb.body.results[0]).toMatchObject({ execution_id: a, acknowledged: true })
    expect(hb.body.results[1]).toMatchObject({ execution_id: b, error: { code: 'lease_lost', status: 409 } })
    expect(hb.body.results[2]).toMatchObject({
      execution_id: 'missing',
      error: { code: 'execution_not_found' },
    })
    const out = await t.json('POST', '/v1/executions/outcomes', {
      outcomes: [
        { execution_id: a, lease_token: ca.lease.token, success: true },
        { execution_id: b, lease_token: cb.lease.token, success: false, retry: false, error: 'bad' },
        { execution_id: b, lease_token: 'nope', success: true },
      ],
    })
    expect(out.body.results.map((r: any) => r.status ?? r.error.code)).toEqual([
      'success',
      'failed',
      'lease_lost',
    ])
    expectError(await t.json('POST', '/v1/executions/outcomes', { outcomes: [] }), 'validation_error')
  })

  it('release, cancel and replay', async () => {
    const t = await makeApp()
    const id = await enqueue(t)
    const c = await claim(t)
    const rel = await t.json('POST', `/v1/executions/${id}/release`, {
      lease_token: c.lease.token,
      delay_seconds: 60,
    })
    expect(rel.body).toMatchObject({ status: 'scheduled', attempt: 1 })
    expectError(await t.json('POST', `/v1/executions/${id}/release`, { lease_token: 'x' }), 'lease_lost')
    expect((await t.json('POST', `/v1/executions/${id}/cancel`)).body).toMatchObject({ status: 'cancelled' })
    const replay = await t.json('POST', `/v1/executions/${id}/replay`)
    expect(replay.status).toBe(201)
    expect(replay.body).toMatchObject({ status: 'pending', replayed_from: id })
    expectError(
      await t.json('POST', `/v1/executions/${replay.body.execution_id}/replay`),
      'execution_not_terminal',
    )
    const done = await claim(t)
    await t.json('POST', `/v1/executions/${done.execution_id}/outcome`, {
      lease_token: done.lease.token,
      success: true,
    })
    expectError(
      await t.json('POST', `/v1/executions/${done.execution_id}/cancel`),
      'execution_not_cancellable',
    )
  })

  it('get and list with filters and cursor', async () => {
    const t = await makeApp()
    const ids = []
    for (let i = 0; i < 5; i++) ids.push(await enqueue(t, { task: i < 3 ? 'x' : 'y' }))
    const page1 = await t.json('GET', '/v1/executions?limit=2')
    expect(page1.body.executions.map((e: any) => e.execution_id)).toEqual([ids[4], ids[3]])
    expect(page1.body.has_more).toBe(true)
    const page2 = await t.json('GET', `/v1/executions?limit=2&cursor=${page1.body.next_cursor}`)
    expect(page2.body.executions.map((e: any) => e.execution_id)).toEqual([ids[2], ids[1]])
    expect((await t.json('GET', '/v1/executions?task=y')).body.executions).toHaveLength(2)
    await claim(t, { worker_id: 'lister' })
    expect((await t.json('GET', '/v1/executions?status=delivering')).body.executions).toHaveLength(1)
    expect(
      (await t.json('GET', '/v1/executions?status__in=pending,delivering')).body.executions,
    ).toHaveLength(5)
    expect((await t.json('GET', '/v1/executions?worker_id=lister')).body.executions).toHaveLength(1)
    const one = await t.json('GET', `/v1/executions/${ids[0]}`)
    expect(one.body).toMatchObject({
      execution_id: ids[0],
      status: 'delivering',
      attempts: 1,
      history: [{ worker_id: 'lister' }],
    })
    expect(JSON.stringify(one.body)).not.toMatch(/token/)
    expectError(await t.json('GET', '/v1/executions/unknown'), 'execution_not_found')
  })
})

describe('workers, leases, queues, events', () => {
  it('worker heartbeats on both paths, list, delete', async () => {
    const t = await makeApp()
    for (const path of ['/v1/worker/heartbeat', '/v1/workers/heartbeat']) {
      const r = await t.json('POST', path, { worker_id: 'w-cue', handlers: ['a', 'b'] })
      expect(r.body).toMatchObject({ acknowledged: true, worker_id: 'w-cue' })
    }
    await enqueue(t)
    await claim(t, { worker_id: 'w-claim' })
    const list = (await t.json('GET', '/v1/workers')).body.workers
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ worker_id: 'w-cue', handlers: ['a', 'b'], state: 'active', in_flight: 0 }),
        expect.objectContaining({ worker_id: 'w-claim', state: 'active', in_flight: 1, claimed: 1 }),
      ]),
    )
    expect((await t.call('DELETE', '/v1/workers/w-cue')).status).toBe(204)
    expectError(await t.json('DELETE', '/v1/workers/w-cue'), 'worker_not_found')
    expectError(await t.json('POST', '/v1/worker/heartbeat', { handlers: [] }), 'validation_error')
  })

  it('leases sorted by expiry with filters, and queue counts', async () => {
    const t = await makeApp()
    await t.json('POST', '/v1/executions/bulk', { executions: [{ task: 'a' }, { task: 'b' }, { task: 'b' }] })
    await claim(t, { worker_id: 'w1', task: 'a', lease_seconds: 300 })
    await claim(t, { worker_id: 'w2', task: 'b', lease_seconds: 60 })
    const leases = (await t.json('GET', '/v1/leases')).body
    expect(leases.leases.map((l: any) => l.worker_id)).toEqual(['w2', 'w1'])
    expect(leases.leases[0]).toMatchObject({ task: 'b', epoch: 1, heartbeats: 0, last_heartbeat_at: null })
    expect(leases.leases[0].remaining_ms).toBeGreaterThan(50_000)
    expect(leases.server_time).toBeTruthy()
    expect((await t.json('GET', '/v1/leases?worker_id=w1')).body.leases).toHaveLength(1)
    expect((await t.json('GET', '/v1/leases?task=a&expiring_within_seconds=100')).body.leases).toHaveLength(0)
    const queues = (await t.json('GET', '/v1/queues')).body.queues
    expect(queues).toEqual([
      expect.objectContaining({ task: 'a', pending: 0, delivering: 1 }),
      expect.objectContaining({ task: 'b', pending: 1, delivering: 1 }),
    ])
  })
})

describe('claims that cannot be handed over', () => {
  it('releases the leases at once when the claimed response could not be written', async () => {
    const { EventEmitter } = await import('node:events')
    for (const written of [false, true]) {
      const t = await makeApp()
      const id = await enqueue(t)
      const outgoing = Object.assign(new EventEmitter(), { writableFinished: written })
      const res = await t.cuekit.app.request(
        '/v1/executions/claim',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${t.apiKey}` },
          body: JSON.stringify({ worker_id: 'w', lease_seconds: 600 }),
        },
        { outgoing },
      )
      expect(((await res.json()) as { execution_id: string }).execution_id).toBe(id)
      outgoing.emit('close')
      if (written) {
        expect((await t.json('GET', `/v1/executions/${id}`)).body.status).toBe('delivering')
      } else {
        const rec = await waitFor(async () => {
          const r = (await t.json('GET', `/v1/executions/${id}`)).body
          return r.status === 'pending' ? r : null
        })
        expect(rec.attempt).toBe(1)
        expect(rec.history[0].outcome).toBe('released')
      }
    }
  })
})
