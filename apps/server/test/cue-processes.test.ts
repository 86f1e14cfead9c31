import { Engine, Tenants } from '@cuekit/engine'
import { ALERT_TASK } from '@cuekit/protocol'
import {
  createTenant,
  type ServerProcess,
  startServerProcess,
  tenantClient,
} from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { verifyWebhook } from '@cuekit/sdk'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startReceiver } from './receiver.ts'

// Cues across real server processes on one private Redis: each tick fires exactly once whoever
// schedules it, and a server killed mid-delivery leaves its lease to expire so another server
// delivers again under the same execution ID — an alert delivery too, which is an execution like
// any other.

let a: ServerProcess
let b: ServerProcess
let redis: Redis

beforeAll(async () => {
  const env = { CUEKIT_WEBHOOK_ALLOW_PRIVATE: 'true', CUEKIT_WEBHOOK_LEASE_MARGIN_SECONDS: '1' }
  ;[a, b] = await Promise.all([
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
  ])
  redis = new Redis(inject('redisUrl'))
}, 60_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  redis?.disconnect()
})

describe('cues on two servers', () => {
  it('fire exactly one execution per tick', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = tenantClient(a.url, api_key)
    const onB = tenantClient(b.url, api_key)
    const cue = await onA('POST', '/v1/cues', {
      name: 'every-second',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '* * * * * *' },
      payload: { task: 'tick' },
    })
    expect(cue.status).toBe(201)
    const list = async () =>
      (await onB('GET', `/v1/executions?cue_id=${cue.body.id}&limit=100`)).body.executions as any[]
    await waitFor(async () => (await list()).length >= 4, { timeoutMs: 30_000, message: 'too few fires' })
    await onB('PATCH', `/v1/cues/${cue.body.id}`, { status: 'paused' })
    const fired = (await list()).map((e) => Date.parse(e.scheduled_for)).sort((x, y) => x - y)
    // One execution per tick, and no tick between the first and the last was left out.
    expect(new Set(fired).size).toBe(fired.length)
    for (let i = 1; i < fired.length; i++) expect(fired[i]! - fired[i - 1]!).toBe(1000)
    const detail = await onA('GET', `/v1/cues/${cue.body.id}`)
    expect(detail.body.fired_count).toBe(fired.length)
  })

  it('a server killed mid-delivery: the lease expires and another server delivers again, same execution ID', async () => {
    const rx = await startReceiver((_r, i) => (i === 0 ? 'hold' : 200))
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = tenantClient(a.url, api_key)
    const cue = await onA('POST', '/v1/cues', {
      name: 'survives',
      schedule: { type: 'recurring', cron: '0 0 1 1 *' },
      callback: { url: `${rx.url}/hook` },
      delivery: { timeout_seconds: 4 },
    })
    expect(cue.status).toBe(201)
    const fired = await onA('POST', `/v1/cues/${cue.body.id}/fire`)
    const id = fired.body.execution_id
    await waitFor(() => rx.received.length === 1, { timeoutMs: 15_000, message: 'first delivery never came' })
    // Whichever server's dispatcher holds the lease dies without a word.
    const held = await onA('GET', `/v1/executions/${id}`)
    const pid = Number(String(held.body.lease.worker_id).split(':').pop())
    const [victim, survivor] = a.process.pid === pid ? [a, b] : [b, a]
    expect(victim.process.pid).toBe(pid)
    await victim.kill('SIGKILL')
    await waitFor(() => rx.received.length >= 2, { timeoutMs: 30_000, message: 'not delivered again' })
    const again = rx.received[1]!
    expect(again.headers['x-cueapi-execution-id']).toBe(id)
    expect(again.headers['x-cueapi-attempt']).toBe('2')
    const onSurvivor = tenantClient(survivor.url, api_key)
    const done = await waitFor(
      async () => {
        const e = await onSurvivor('GET', `/v1/executions/${id}`)
        return e.body.status === 'success' ? e.body : null
      },
      { timeoutMs: 15_000 },
    )
    expect(done.history.map((x: any) => x.outcome)).toEqual(['lease_expired', 'success'])
    expect(rx.received).toHaveLength(2)
    // The next test needs both servers again.
    await victim.restart()
  }, 60_000)
})

describe('an alert whose server is killed mid-delivery', () => {
  it('is posted again by the other server once the lease expires', async () => {
    const rx = await startReceiver((_r, i) => (i === 0 ? 'hold' : 200))
    const { api_key, tenant_id } = await createTenant(a.url, a.adminKey)
    // The servers' store, read directly: the alert webhook is set as PATCH /v1/auth/me sets it.
    const engine = new Engine({ redis })
    const tenants = new Tenants(redis, engine.keys)
    const tenant = (await tenants.get(tenant_id))!
    await tenants.setAlertWebhookUrl(tenant, `${rx.url}/alerts`)
    const secret = await tenants.alertWebhookSecret(tenant_id)

    const call = tenantClient(a.url, api_key)
    const cue = await call('POST', '/v1/cues', {
      name: 'fails-once',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '0 0 1 1 *' },
      payload: { task: 'job' },
      retry: { max_attempts: 1 },
      alerts: { consecutive_failures: 1 },
    })
    expect(cue.status).toBe(201)
    await call('POST', `/v1/cues/${cue.body.id}/fire`)
    const claim = await call('POST', '/v1/executions/claim', { worker_id: 'w1', task: 'job' })
    expect(claim.status).toBe(200)
    const claimed = claim.body.executions?.[0] ?? claim.body
    const report = await call('POST', `/v1/executions/${claimed.execution_id}/outcome`, {
      success: false,
      error: 'boom',
      ...(claimed.lease?.token ? { lease_token: claimed.lease.token } : { worker_id: 'w1' }),
    })
    expect(report.status).toBe(200)

    await waitFor(() => rx.received.length === 1, { timeoutMs: 15_000, message: 'first alert never came' })
    const [delivery] = (await engine.list(tenant, { task: ALERT_TASK })).executions
    const pid = Number(String(delivery!.lease?.worker_id).split(':').pop())
    const [victim, survivor] = a.process.pid === pid ? [a, b] : [b, a]
    expect(victim.process.pid).toBe(pid)
    await victim.kill('SIGKILL')

    // The notice lease is its 10 s timeout plus the 1 s margin set above.
    await waitFor(() => rx.received.length >= 2, { timeoutMs: 30_000, message: 'not delivered again' })
    const [first, again] = rx.received
    expect(again!.headers['x-cueapi-alert-id']).toBe(first!.headers['x-cueapi-alert-id'])
    expect(verifyWebhook(secret, again!.headers, again!.body)).toBe(true)
    const done = await waitFor(
      async () => {
        const e = await engine.get(tenant, delivery!.id)
        return e.status === 'success' ? e : null
      },
      { timeoutMs: 10_000 },
    )
    expect(done.history.map((h) => h.outcome)).toEqual(['lease_expired', 'success'])
    expect(String(done.claimed_by_worker)).toContain(`:${survivor.process.pid}`)
    await victim.restart()
  }, 60_000)
})
