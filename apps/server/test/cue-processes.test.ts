import {
  createTenant,
  type ServerProcess,
  startServerProcess,
  tenantClient,
} from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startReceiver } from './receiver.ts'

// Cues across real server processes on one private Redis: each tick fires exactly once whoever
// schedules it, and a server killed mid-delivery leaves its lease to expire so another server
// delivers again under the same execution ID.

let a: ServerProcess
let b: ServerProcess

beforeAll(async () => {
  const env = { CUEKIT_WEBHOOK_ALLOW_PRIVATE: 'true', CUEKIT_WEBHOOK_LEASE_MARGIN_SECONDS: '1' }
  ;[a, b] = await Promise.all([
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
    startServerProcess({ redisUrl: inject('redisUrl'), env }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
})

const client = tenantClient

describe('cues on two servers', () => {
  it('fire exactly one execution per tick', async () => {
    const { api_key } = await createTenant(a.url, a.adminKey)
    const onA = client(a.url, api_key)
    const onB = client(b.url, api_key)
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
    const onA = client(a.url, api_key)
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
    const onSurvivor = client(survivor.url, api_key)
    const done = await waitFor(
      async () => {
        const e = await onSurvivor('GET', `/v1/executions/${id}`)
        return e.body.status === 'success' ? e.body : null
      },
      { timeoutMs: 15_000 },
    )
    expect(done.history.map((x: any) => x.outcome)).toEqual(['lease_expired', 'success'])
    expect(rx.received).toHaveLength(2)
  })
})
