import { StatsResponse } from '@cuekit/protocol'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'

// GET /v1/stats: what an ops overview needs beyond /v1/queues (waiting long-polls, reaper lag,
// workers by state, counter totals), scoped to the calling tenant.

describe('GET /v1/stats', () => {
  it('needs a tenant key and is in the OpenAPI document', async () => {
    const t = await makeApp()
    expect((await t.json('GET', '/v1/stats', undefined, { authorization: '' })).status).toBe(401)
    expect((await t.json('GET', '/openapi.json')).body.paths['/v1/stats']).toBeDefined()
  })

  it('counts workers by state, their counters, and this tenant’s waiting long-polls', async () => {
    const t = await makeApp()
    const empty = StatsResponse.parse((await t.json('GET', '/v1/stats')).body)
    expect(empty).toMatchObject({
      waiting_long_polls: 0,
      reaper: { last_pass_at: null, last_pass_lag_ms: null, overdue_leases: 0, oldest_overdue_ms: null },
      workers: { active: 0, stale: 0, dead: 0 },
      totals: { claimed: 0, completed: 0, failed: 0 },
    })

    await t.json('POST', '/v1/executions', { task: 'a' })
    const c = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task: 'a' })
    const e = c.body.executions[0]
    await t.json('POST', `/v1/executions/${e.execution_id}/outcome`, {
      lease_token: e.lease.token,
      success: true,
    })
    await t.json('POST', '/v1/worker/heartbeat', { worker_id: 'w2', handlers: ['b'] })

    // A long-poll of this tenant is counted; another tenant's is not.
    const other = await t.newTenant()
    const abort = new AbortController()
    const polls = [t.apiKey, other.apiKey].map((key) =>
      Promise.resolve(
        t.cuekit.app.request('/v1/executions/claim', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ worker_id: 'w3', task: 'nothing', wait_seconds: 10 }),
          signal: abort.signal,
        }),
      ).catch(() => null),
    )
    const stats = await waitFor(
      async () => {
        const s = StatsResponse.parse((await t.json('GET', '/v1/stats')).body)
        return s.waiting_long_polls > 0 ? s : null
      },
      { timeoutMs: 5000 },
    )
    expect(stats.waiting_long_polls).toBe(1)
    expect(stats.workers).toEqual({ active: 2, stale: 0, dead: 0, lost: 0 })
    expect(stats.totals).toEqual({ claimed: 1, completed: 1, failed: 0 })
    abort.abort()
    await Promise.all(polls)
  })

  it('reports expired leases the reaper has not reached as the tenant’s reaper lag', async () => {
    // makeApp does not start maintenance, so an expired lease stays unreaped.
    const t = await makeApp()
    await t.json('POST', '/v1/executions', { task: 'a' })
    await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task: 'a', lease_seconds: 1 })
    const stats = await waitFor(
      async () => {
        const s = StatsResponse.parse((await t.json('GET', '/v1/stats')).body)
        return s.reaper.overdue_leases > 0 ? s : null
      },
      { timeoutMs: 5000, intervalMs: 50 },
    )
    expect(stats.reaper.overdue_leases).toBe(1)
    expect(stats.reaper.oldest_overdue_ms).toBeGreaterThanOrEqual(0)
    expect(stats.reaper.last_pass_at).toBeNull()

    // Once a maintenance pass reaps it, the lag is gone and the pass is reported.
    t.cuekit.startMaintenance()
    const after = await waitFor(
      async () => {
        const s = StatsResponse.parse((await t.json('GET', '/v1/stats')).body)
        return s.reaper.overdue_leases === 0 && s.reaper.last_pass_at ? s : null
      },
      { timeoutMs: 5000, intervalMs: 50 },
    )
    expect(after.reaper.oldest_overdue_ms).toBeNull()
    expect(after.reaper.last_pass_lag_ms).toBeGreaterThanOrEqual(0)
  })
})
