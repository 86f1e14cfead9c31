import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonDepth, MAX_JSON_DEPTH } from '../src/http.ts'
import { ADMIN_KEY, makeApp, type TestApp } from './helpers.ts'

// Hostile input: whatever arrives, never a 5xx, every 4xx names its error, and a refused
// request changes nothing that was stored.

const ROUTES: [string, string][] = [
  ['POST', '/v1/executions'],
  ['POST', '/v1/executions/bulk'],
  ['POST', '/v1/executions/claim'],
  ['GET', '/v1/executions/claimable'],
  ['POST', '/v1/executions/heartbeats'],
  ['POST', '/v1/executions/outcomes'],
  ['GET', '/v1/executions'],
  ['GET', '/v1/executions/{id}'],
  ['POST', '/v1/executions/{id}/claim'],
  ['POST', '/v1/executions/{id}/heartbeat'],
  ['POST', '/v1/executions/{id}/outcome'],
  ['POST', '/v1/executions/{id}/release'],
  ['POST', '/v1/executions/{id}/cancel'],
  ['POST', '/v1/executions/{id}/replay'],
  ['POST', '/v1/executions/{id}/live-claim'],
  ['POST', '/v1/tenants'],
  ['POST', '/v1/auth/register'],
  ['GET', '/v1/auth/me'],
  ['POST', '/v1/worker/heartbeat'],
  ['GET', '/v1/workers'],
  ['DELETE', '/v1/workers/{id}'],
  ['GET', '/v1/leases'],
  ['GET', '/v1/queues'],
]

const FIELDS = [
  'task',
  'payload',
  'worker_id',
  'max',
  'wait_seconds',
  'lease_seconds',
  'lease_token',
  'success',
  'error',
  'retry',
  'executions',
  'outcomes',
  'leases',
  'delay_seconds',
  'scheduled_for',
  'max_attempts',
  'priority',
  'backoff_seconds',
  'extend_seconds',
  'handlers',
  'session_token',
  'name',
  'email',
  '__proto__',
  'constructor',
]

const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '',
    '\u0000',
    '\ud800',
    '\u202e',
    'a'.repeat(5000),
    '../../etc/passwd',
    '%00',
    '{}',
    'null',
  ),
)
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 1.5, 43_201, 101, 1001),
)
const leaf = fc.oneof(oddString, oddNumber, fc.boolean(), fc.constant(null))
const nested = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 4 }),
  ),
})).value
const objectBody = fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(leaf, nested), { maxKeys: 6 })
const deep = fc.integer({ min: 50, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`)

const body = fc.oneof(
  objectBody.map((o) => JSON.stringify(o)),
  nested.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string(),
  deep,
  deep.map((d) => `{"task":"t","payload":${d}}`),
  deep.map((d) => `{"executions":[{"task":"t","payload":${d}}]}`),
  fc.constant(undefined),
)

async function snapshot(t: TestApp) {
  const [queues, list, leases, workers] = await Promise.all([
    t.engine.queues(t.tenant),
    t.engine.list(t.tenant, { limit: 100 }),
    t.engine.leases(t.tenant, {}),
    t.engine.workers(t.tenant),
  ])
  return JSON.stringify({
    // The age of the oldest pending execution grows by itself; everything else must not move.
    queues: queues.queues.map(({ oldest_pending_age_ms: _, ...q }) => q),
    list: list.executions.map((e) => [e.execution_id, e.status, e.attempt, e.lease?.expires_at ?? null]),
    leases: leases.leases.map((l) => [l.execution_id, l.expires_at, l.heartbeats]),
    workers: workers.workers.map((w) => [w.worker_id, w.claimed, w.completed, w.failed]),
  })
}

describe('hostile input', () => {
  it('refuses JSON nested deeper than the limit with 422, and stores nothing', async () => {
    const t = await makeApp()
    for (const n of [129, 10_000, 400_000]) {
      const res = await t.json(
        'POST',
        '/v1/executions',
        `{"task":"t","payload":${'['.repeat(n)}${']'.repeat(n)}}`,
      )
      expect(res.status).toBe(422)
      expect(res.body.error.code).toBe('validation_error')
    }
    const ok = await t.json(
      'POST',
      '/v1/executions',
      `{"task":"t","payload":${'['.repeat(100)}${']'.repeat(100)}}`,
    )
    expect(ok.status).toBe(201)
    expect((await t.engine.queues(t.tenant)).queues[0]!.pending).toBe(1)
    // Brackets inside strings do not count.
    expect(
      (await t.json('POST', '/v1/executions', { task: 't', payload: { s: '['.repeat(1000) } })).status,
    ).toBe(201)
  })

  it('measures nesting, not the number of brackets: wide bodies pass, deep ones are caught', async () => {
    const limit = MAX_JSON_DEPTH
    // Few brackets: counted, not scanned; the count bounds the depth.
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBeLessThanOrEqual(limit)
    // More brackets than the limit, shallow: the scan gives the true depth.
    const wide = JSON.stringify({ outcomes: Array.from({ length: 300 }, (_, i) => ({ i, r: [i] })) })
    expect(jsonDepth(wide)).toBe(4)
    const inStrings = JSON.stringify({ s: '{['.repeat(500) })
    expect(jsonDepth(inStrings)).toBe(1)
    // Deep: caught whether the brackets are all nesting or mixed with siblings.
    expect(jsonDepth(`${'['.repeat(limit + 1)}${']'.repeat(limit + 1)}`)).toBeGreaterThan(limit)
    const mixed = `[${'{},'.repeat(200)}${'['.repeat(limit)}${']'.repeat(limit)}]`
    expect(jsonDepth(mixed)).toBeGreaterThan(limit)
    const t = await makeApp()
    const res = await t.json('POST', '/v1/executions/bulk', wide.replace('outcomes', 'executions'))
    expect(res.status).toBe(422)
    expect(res.body.error.message).not.toContain('nested deeper')
  })

  it('never answers 5xx; every 4xx carries error.code; refused requests change nothing', async () => {
    const t = await makeApp()
    const [first] = await t.engine.enqueue(t.tenant, [{ task: 'x' }, { task: 'y' }])
    const id = first!.execution_id
    const [claimed] = await t.engine.claim(t.tenant, { worker_id: 'holder', task: 'y', lease_seconds: 3600 })
    const ids = [id, claimed!.execution_id, 'missing', '%ZZ', '..%2F..', 'ü', 'x'.repeat(300), '%00']
    const auth = fc.constantFrom(
      `Bearer ${t.apiKey}`,
      `Bearer ${ADMIN_KEY}`,
      'Bearer cue_sk_0000',
      undefined,
      'Basic x',
      `Bearer ${t.apiKey}x`,
    )
    const request = fc.record({
      route: fc.constantFrom(...ROUTES),
      method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), {
        nil: undefined,
      }),
      id: fc.constantFrom(...ids),
      query: fc.option(
        fc.dictionary(fc.constantFrom('limit', 'status', 'task', 'cursor', 'worker_id', 'x'), oddString, {
          maxKeys: 3,
        }),
        { nil: undefined },
      ),
      body,
      auth,
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        undefined,
        'application/x-www-form-urlencoded',
      ),
      // Mostly well-formed routes, some random paths.
      randomPath: fc.option(fc.webPath(), { freq: 5, nil: undefined }),
    })
    let before = await snapshot(t)
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const method = r.method ?? r.route[0]
        let path = r.randomPath ?? r.route[1].replace('{id}', r.id)
        if (r.query) path += `?${new URLSearchParams(r.query).toString()}`
        const headers: Record<string, string> = {}
        if (r.auth) headers.authorization = r.auth
        if (r.contentType) headers['content-type'] = r.contentType
        const res = await t.cuekit.app.request(path, {
          method,
          headers,
          ...(r.body === undefined || method === 'GET' || method === 'OPTIONS' ? {} : { body: r.body }),
        })
        const text = await res.text()
        expect(res.status, `${method} ${path} -> ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500)
        if (res.status >= 400) {
          const parsed = JSON.parse(text)
          expect(typeof parsed.error.code).toBe('string')
          expect(parsed.error.status).toBe(res.status)
          const after = await snapshot(t)
          expect(after, `${method} ${path} was refused (${res.status}) but changed state`).toBe(before)
        } else {
          before = await snapshot(t)
        }
      }),
      { numRuns: 400 },
    )
  }, 120_000)
})
