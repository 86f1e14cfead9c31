import { type RateMinute, RatesResponse } from '@cuekit/protocol'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'

// GET /v1/stats/rates: the tenant's activity per minute from storage, so that a dashboard opened
// during an incident sees what happened before it was opened.

const rates = async (t: TestApp, query = '') => {
  const res = await t.json('GET', `/v1/stats/rates${query}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return RatesResponse.parse(res.body)
}

const total = (r: RatesResponse, field: Exclude<keyof RateMinute, 'at'>) =>
  r.minutes.reduce((sum, m) => sum + m[field], 0)

describe('GET /v1/stats/rates', () => {
  it('needs a tenant key and is in the OpenAPI document', async () => {
    const t = await makeApp()
    expect((await t.json('GET', '/v1/stats/rates', undefined, { authorization: '' })).status).toBe(401)
    const doc = (await t.json('GET', '/openapi.json')).body
    expect(doc.paths['/v1/stats/rates'].get.parameters).toEqual([
      expect.objectContaining({ name: 'window', in: 'query' }),
    ])
  })

  it('answers 15 minutes by default, then 1 h and 24 h: consecutive minutes, oldest first, ending now', async () => {
    const t = await makeApp()
    for (const [query, window, count] of [
      ['', '15m', 15],
      ['?window=15m', '15m', 15],
      ['?window=1h', '1h', 60],
      ['?window=24h', '24h', 1440],
    ] as const) {
      const r = await rates(t, query)
      expect(r.window).toBe(window)
      expect(r.minutes).toHaveLength(count)
      const starts = r.minutes.map((m) => Date.parse(m.at))
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(60_000)
      expect(starts[0]! % 60_000).toBe(0)
      // The last minute is the one the server's clock is in.
      const now = Date.parse(r.server_time)
      expect(now - starts.at(-1)!).toBeGreaterThanOrEqual(0)
      expect(now - starts.at(-1)!).toBeLessThan(60_000)
      expect(r.minutes.every((m) => m.claims === 0 && m.enqueues === 0)).toBe(true)
    }
  })

  it('counts enqueues, claims, completions, failures and reclaims, for the calling tenant only', async () => {
    const t = await makeApp()
    await t.json('POST', '/v1/executions/bulk', { executions: [{ task: 'a' }, { task: 'a' }, { task: 'a' }] })
    const claimed = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task: 'a', max: 2 })
    const [ok, bad] = claimed.body.executions
    await t.json('POST', `/v1/executions/${ok.execution_id}/outcome`, {
      lease_token: ok.lease.token,
      success: true,
    })
    await t.json('POST', `/v1/executions/${bad.execution_id}/outcome`, {
      lease_token: bad.lease.token,
      success: false,
      error: 'boom',
      retry: false,
    })
    // The third lease runs out unreported: the reaper re-queues it.
    await t.json('POST', '/v1/executions/claim', { worker_id: 'w2', task: 'a', lease_seconds: 1 })
    t.cuekit.startMaintenance()
    // Activity may straddle a minute boundary: the window's sums are what is asserted.
    const r = await waitFor(
      async () => {
        const r = await rates(t)
        return total(r, 'reclaims') > 0 ? r : null
      },
      { timeoutMs: 8000, intervalMs: 100 },
    )
    expect({
      enqueues: total(r, 'enqueues'),
      claims: total(r, 'claims'),
      completions: total(r, 'completions'),
      failures: total(r, 'failures'),
      reclaims: total(r, 'reclaims'),
    }).toEqual({ enqueues: 3, claims: 3, completions: 1, failures: 1, reclaims: 1 })
    // Nothing before the activity began: it is all in the last two minutes.
    expect(r.minutes.slice(0, -2).every((m) => m.claims === 0)).toBe(true)
    expect(total(await rates(t, '?window=24h'), 'claims')).toBe(3)

    const other = await t.newTenant()
    const theirs = await t.json('GET', '/v1/stats/rates', undefined, {
      authorization: `Bearer ${other.apiKey}`,
    })
    expect(total(RatesResponse.parse(theirs.body), 'claims')).toBe(0)
  })

  it('refuses another window, or an unknown parameter, with 422', async () => {
    const t = await makeApp()
    for (const query of ['?window=2h', '?window=', '?window=15M', '?minutes=15']) {
      const res = await t.json('GET', `/v1/stats/rates${query}`)
      expect(res.status, query).toBe(422)
      expect(res.body.error.code, query).toBe('validation_error')
    }
    const res = await t.json('GET', '/v1/stats/rates?window=2h')
    expect(res.body.error.message).toContain('window')
    expect(res.body.error.message).toMatch(/15m.*1h.*24h/)
  })
})
