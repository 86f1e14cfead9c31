import { EventEmitter } from 'node:events'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'

// Issue 11 §2: whatever a claim request leased and could not hand over is released, on every
// error path, and a request that has answered leaves no long-poll behind.

async function enqueue(t: TestApp, task = 'handover') {
  const r = await t.json('POST', '/v1/executions', { task })
  expect(r.status).toBe(201)
  return r.body.execution_id as string
}

/** A lease to report on, so the claim below carries a real outcome. */
async function leased(t: TestApp) {
  const id = await enqueue(t, 'earlier')
  const r = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task: 'earlier' })
  expect(r.body.execution_id).toBe(id)
  return { execution_id: id, lease_token: r.body.executions[0].lease.token as string, success: true }
}

const transient = () => new Error('Connection is closed.')

afterEach(() => {
  vi.restoreAllMocks()
})

// Over a socket a long-poll that finds nothing is parked and answered outside Hono
// (routes/parked-claim.ts): every path is checked both ways.
describe.each([
  ['app.request()', false],
  ['a socket', true],
])('a claim carrying outcomes whose report fails, over %s', (_, socket) => {
  it('long-poll: answers the error and stops waiting; the next execution goes to the next claim', async () => {
    const t = await makeApp({}, { socket })
    const report = await leased(t)
    vi.spyOn(t.engine, 'reportMany').mockRejectedValueOnce(transient())
    const r = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w-failed',
      task: 'handover',
      wait_seconds: 10,
      outcomes: [report],
    })
    expect(r.status).toBe(503)
    expect(r.body.error.code).toBe('storage_unavailable')
    // Nothing waits any more on behalf of a request that has answered.
    expect(t.cuekit.services.waiters.size).toBe(0)

    const next = await enqueue(t)
    const claim = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w-next',
      task: 'handover',
      wait_seconds: 5,
    })
    expect(claim.body.execution_id).toBe(next)
    const rec = (await t.json('GET', `/v1/executions/${next}`)).body
    expect(rec.history.map((a: { worker_id: string }) => a.worker_id)).toEqual(['w-next'])
  })

  it('wait_seconds 0: what the claim leased is released at once', async () => {
    const t = await makeApp({}, { socket })
    const report = await leased(t)
    const id = await enqueue(t)
    vi.spyOn(t.engine, 'reportMany').mockRejectedValueOnce(transient())
    const r = await t.json('POST', '/v1/executions/claim', {
      worker_id: 'w-failed',
      task: 'handover',
      outcomes: [report],
    })
    expect(r.status).toBe(503)
    const rec = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(rec.status).toBe('pending')
    expect(rec.history.at(-1)).toMatchObject({ attempt: 1, worker_id: 'w-failed', outcome: 'released' })
    const claim = await t.json('POST', '/v1/executions/claim', { worker_id: 'w-next', task: 'handover' })
    expect(claim.body.execution_id).toBe(id)
    // The report itself was not lost for good: sending it again records it.
    const again = await t.json('POST', '/v1/executions/outcomes', { outcomes: [report] })
    expect(again.body.results[0].status).toBe('success')
  })

  it('a long-poll that claimed while the report was failing releases what it got', async () => {
    const t = await makeApp({}, { socket })
    const report = await leased(t)
    const id = await enqueue(t)
    let fail!: (error: Error) => void
    // The report fails only after the claim has leased the pending execution.
    vi.spyOn(t.engine, 'reportMany').mockImplementationOnce(() => new Promise((_, reject) => (fail = reject)))
    const claimed = vi.spyOn(t.engine, 'claim')
    const pending = t.json('POST', '/v1/executions/claim', {
      worker_id: 'w-failed',
      task: 'handover',
      wait_seconds: 10,
      outcomes: [report],
    })
    await waitFor(async () => {
      const settled = claimed.mock.results[0]
      return settled?.type === 'return' && (await settled.value).length === 1
    })
    fail(transient())
    expect((await pending).status).toBe(503)
    const rec = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(rec.status).toBe('pending')
    expect(rec.history.at(-1).outcome).toBe('released')
  })
})

describe('a claim carrying outcomes whose answer cannot be written', () => {
  it('a claim with outcomes whose answer cannot be written releases its leases', async () => {
    const t = await makeApp()
    const report = await leased(t)
    const id = await enqueue(t)
    const outgoing = Object.assign(new EventEmitter(), { writableFinished: false })
    const res = await t.cuekit.app.request(
      '/v1/executions/claim',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${t.apiKey}` },
        body: JSON.stringify({ worker_id: 'w', task: 'handover', outcomes: [report] }),
      },
      { outgoing },
    )
    const body = (await res.json()) as { execution_id: string; results: { status: string }[] }
    expect(body.execution_id).toBe(id)
    expect(body.results[0]!.status).toBe('success')
    outgoing.emit('close')
    await waitFor(async () => (await t.json('GET', `/v1/executions/${id}`)).body.status === 'pending')
  })
})
