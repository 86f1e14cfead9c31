import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'

// Served by Node, a long-poll that finds nothing is parked and later answered on Node's response
// outside Hono (routes/parked-claim.ts). It must answer as any other request does.

async function scrape(t: TestApp, route: string, status: string): Promise<number> {
  const text = await (await t.call('GET', '/metrics')).text()
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('cuekit_http_request_duration_seconds_count{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`status="${status}"`),
    )
  return Number(line?.split(' ').at(-1) ?? 0)
}

describe('a parked long-poll (real socket)', () => {
  it('answers a wake with the claim, its request id and rate-limit headers, and is counted when it answers', async () => {
    const t = await makeApp({ rateLimit: 1000 }, { socket: true })
    const before = await scrape(t, '/v1/executions/claim', '200')
    const polling = t.call(
      'POST',
      '/v1/executions/claim',
      { worker_id: 'w', task: 'parked', wait_seconds: 20 },
      { 'x-request-id': 'req-parked-1' },
    )
    await waitFor(() => t.cuekit.services.waiters.size === 1)
    // Waiting, not yet answered: not in the request metric.
    expect(await scrape(t, '/v1/executions/claim', '200')).toBe(before)
    const enq = await t.json('POST', '/v1/executions', { task: 'parked' })
    const res = await polling
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('x-request-id')).toBe('req-parked-1')
    expect(res.headers.get('x-ratelimit-limit')).not.toBeNull()
    const body = await res.json()
    expect(body).toMatchObject({ claimed: true, execution_id: enq.body.execution_id })
    expect(t.cuekit.services.waiters.size).toBe(0)
    await waitFor(async () => (await scrape(t, '/v1/executions/claim', '200')) === before + 1)
  })

  it('carries the results of the outcomes it was sent, also when the wait ends empty', async () => {
    const t = await makeApp({}, { socket: true })
    const enq = await t.json('POST', '/v1/executions', { task: 'parked-earlier' })
    const first = await t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: 'parked-earlier' })
    const started = Date.now()
    const r = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w',
      task: 'parked',
      wait_seconds: 1,
      outcomes: [
        {
          execution_id: enq.body.execution_id,
          lease_token: first.body.executions[0].lease.token,
          success: true,
        },
      ],
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ claimed: false, executions: [], results: [{ status: 'success' }] })
    expect((await t.json('GET', `/v1/executions/${enq.body.execution_id}`)).body.status).toBe('success')
  })

  it('a claim that fails while parked answers the error from the table, and nothing stays leased', async () => {
    const t = await makeApp({}, { socket: true })
    const claim = t.engine.claim.bind(t.engine)
    let calls = 0
    t.engine.claim = async (...args) => {
      calls += 1
      if (calls === 2) throw new Error('Connection is closed.')
      return claim(...args)
    }
    const polling = t.json('POST', '/v1/executions/claim', {
      worker_id: 'w',
      task: 'parked',
      wait_seconds: 20,
    })
    await waitFor(() => t.cuekit.services.waiters.size === 1)
    await t.json('POST', '/v1/executions', { task: 'parked' })
    const r = await polling
    expect(r.status).toBe(503)
    expect(r.body.error.code).toBe('storage_unavailable')
    expect(t.cuekit.services.waiters.size).toBe(0)
  })
})
