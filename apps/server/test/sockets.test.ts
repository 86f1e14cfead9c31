import { connect } from 'node:net'
import { createTenant, type ServerProcess, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

// Real sockets and real server processes on one private Redis: where HTTP behaviour matters.

let a: ServerProcess
let b: ServerProcess

beforeAll(async () => {
  // A long coarse re-check, so only a pub/sub notification can wake a waiter within the test.
  const env = { CUEKIT_WAITER_RECHECK_MS: '60000' }
  ;[a, b] = await Promise.all([
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
})

function client(base: string, apiKey: string) {
  return async (method: string, path: string, body?: unknown, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...init,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

async function waitingLongPolls(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('cuekit_waiting_long_polls '))
  return Number(line?.split(' ')[1] ?? 'NaN')
}

describe('two servers on one Redis', () => {
  it('a long-poll on B is woken by an enqueue through A', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = client(a.url, api_key)
    const onB = client(b.url, api_key)
    const started = Date.now()
    const polling = onB('POST', '/v1/executions/claim', { worker_id: 'wb', task: 'wake', wait_seconds: 20 })
    await waitFor(async () => (await waitingLongPolls(b)) === 1)
    const enq = await onA('POST', '/v1/executions', { task: 'wake' })
    const claimed = await polling
    expect(claimed.body.execution_id).toBe(enq.body.execution_id)
    // Woken by the notification: the 60 s coarse re-check and the 20 s wait are far away.
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('a lease left to expire is claimed by a waiting worker: same id, attempt 2, new token; the old token changes nothing', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = client(a.url, api_key)
    const onB = client(b.url, api_key)
    const enq = await onA('POST', '/v1/executions', { task: 'reclaim' })
    const first = await onA('POST', '/v1/executions/claim', {
      worker_id: 'dies',
      task: 'reclaim',
      lease_seconds: 1,
    })
    const old = first.body.executions[0]
    expect(old.attempt).toBe(1)
    const second = await onB('POST', '/v1/executions/claim', {
      worker_id: 'survivor',
      task: 'reclaim',
      wait_seconds: 20,
    })
    const fresh = second.body.executions[0]
    expect(fresh.execution_id).toBe(enq.body.execution_id)
    expect(fresh.attempt).toBe(2)
    expect(fresh.lease.epoch).toBe(2)
    expect(fresh.lease.token).not.toBe(old.lease.token)
    const stale = await onA('POST', `/v1/executions/${old.execution_id}/outcome`, {
      lease_token: old.lease.token,
      success: true,
    })
    expect(stale.status).toBe(409)
    expect(stale.body.error.code).toBe('lease_lost')
    const rec = await onA('GET', `/v1/executions/${old.execution_id}`)
    expect(rec.body).toMatchObject({
      status: 'delivering',
      attempt: 2,
      lease: { worker_id: 'survivor', epoch: 2 },
    })
    expect(rec.body.history.map((x: any) => x.outcome)).toEqual(['lease_expired', null])
  })

  it('a client that disconnects while waiting leaves the execution pending', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = client(a.url, api_key)
    const abort = new AbortController()
    const gone = onA(
      'POST',
      '/v1/executions/claim',
      { worker_id: 'leaver', task: 'orphan', wait_seconds: 20 },
      { signal: abort.signal },
    )
    gone.catch(() => {})
    await waitFor(async () => (await waitingLongPolls(a)) === 1)
    abort.abort()
    await waitFor(async () => (await waitingLongPolls(a)) === 0)
    const enq = await onA('POST', '/v1/executions', { task: 'orphan' })
    const rec = await onA('GET', `/v1/executions/${enq.body.execution_id}`)
    expect(rec.body).toMatchObject({ status: 'pending', attempt: 0 })
    const claimed = await onA('POST', '/v1/executions/claim', { worker_id: 'stayer', task: 'orphan' })
    expect(claimed.body.executions[0]).toMatchObject({ execution_id: enq.body.execution_id, attempt: 1 })
  })

  it('a CueAPI-style client (no lease token, X-Worker-Id only) claims, heartbeats and reports', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = client(a.url, api_key)
    const enq = await onA('POST', '/v1/executions', { task: 'compat', payload: { n: 1 } })
    const id = enq.body.execution_id
    const listed = await onA('GET', '/v1/executions/claimable?task=compat')
    expect(listed.body.executions[0].execution_id).toBe(id)
    const claimed = await onA('POST', `/v1/executions/${id}/claim`, { worker_id: 'cue-worker' })
    expect(claimed.body.claimed).toBe(true)
    const hdr = { headers: { 'x-worker-id': 'cue-worker' } }
    const hb = await onA('POST', `/v1/executions/${id}/heartbeat`, {}, hdr)
    expect(hb.status).toBe(200)
    expect(hb.body.acknowledged).toBe(true)
    const intruder = await onA(
      'POST',
      `/v1/executions/${id}/heartbeat`,
      {},
      { headers: { 'x-worker-id': 'intruder' } },
    )
    expect(intruder.status).toBe(403)
    expect(intruder.body.error.code).toBe('not_execution_owner')
    const out = await onA(
      'POST',
      `/v1/executions/${id}/outcome`,
      { success: true, result: 'done', metadata: { via: 'cueapi' } },
      hdr,
    )
    expect(out.body).toMatchObject({ execution_id: id, status: 'success', outcome_recorded: true })
    const again = await onA('POST', `/v1/executions/${id}/outcome`, { success: true }, hdr)
    expect(again.body).toEqual(out.body)
  })
})

describe('shutdown', () => {
  it('SIGTERM answers waiting long-polls with an empty result, then exits 0', async () => {
    const server = await startServerProcess({ redisUrl: inject('redisUrl') })
    const { api_key } = await createTenant(server.url, server.adminKey)
    const on = client(server.url, api_key)
    const polls = [1, 2, 3].map((i) =>
      on('POST', '/v1/executions/claim', { worker_id: `w${i}`, wait_seconds: 25 }),
    )
    await waitFor(async () => (await waitingLongPolls(server)) === 3)
    const started = Date.now()
    const exit = server.stop()
    const answers = await Promise.all(polls)
    expect(answers.map((r) => [r.status, r.body.claimed])).toEqual([
      [200, false],
      [200, false],
      [200, false],
    ])
    expect(await exit).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('SIGTERM does not wait for connections that never sent a request', async () => {
    const server = await startServerProcess({ redisUrl: inject('redisUrl') })
    const socket = connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const started = Date.now()
    expect(await server.stop()).toBe(0)
    // The forced exit would come after 30 s.
    expect(Date.now() - started).toBeLessThan(10_000)
    socket.destroy()
  })
})

describe('X-Request-Id over a real socket', () => {
  it('is on every answer: a given id is echoed, else one is made (issue 13 §4)', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const headers = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' }
    const given = await fetch(`${a.url}/v1/executions/claim`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': 'abc-123' },
      body: JSON.stringify({ worker_id: 'w', task: 'rid', wait_seconds: 0 }),
    })
    expect(given.status).toBe(200)
    expect(given.headers.get('x-request-id')).toBe('abc-123')
    const refused = await fetch(`${a.url}/v1/executions/claim`, { method: 'POST', body: '{}' })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})
