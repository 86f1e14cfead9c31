import type { ServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import {
  ClaimFailedError,
  Client,
  ConflictError,
  checkWebhook,
  ExecutionCancelledError,
  LeaseLostError,
  NotFoundError,
  OutcomeAlreadyReportedError,
  UnauthorizedError,
  ValidationError,
  verifyWebhook,
} from '@cuekit/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fakeServer, startServer, tenantOn } from './helpers.ts'

let server: ServerProcess
beforeAll(async () => {
  server = await startServer({ CUEKIT_WEBHOOK_ALLOW_PRIVATE: 'true' })
})
afterAll(async () => {
  await server?.kill()
})

// Every call parses its answer with the protocol schema, so these double as a contract check.
describe('Client against the control plane', () => {
  it('enqueue → claim → heartbeat → complete, and the record tells the story', async () => {
    const { client } = await tenantOn(server)
    const created = await client.executions.enqueue({
      task: 'mail',
      payload: { to: 'a@b.c' },
      max_attempts: 2,
    })
    expect(created).toMatchObject({ status: 'pending', task: 'mail', attempt: 0, max_attempts: 2 })
    const again = await client.executions.enqueue({ task: 'mail' }, { idempotencyKey: 'once' })
    expect((await client.executions.enqueue({ task: 'mail' }, { idempotencyKey: 'once' })).execution_id).toBe(
      again.execution_id,
    )

    const { execution_ids } = await client.executions.enqueueBulk([{ task: 'bulk' }, { task: 'bulk' }])
    expect(execution_ids).toHaveLength(2)
    expect((await client.executions.claimable({ task: 'bulk' })).executions).toHaveLength(2)

    const claim = await client.executions.claim({ worker_id: 'w1', task: 'mail', max: 1 })
    expect(claim.claimed).toBe(true)
    const [leased] = claim.executions
    expect(leased?.execution_id).toBe(created.execution_id)
    const token = leased!.lease.token
    expect(leased?.lease.epoch).toBe(1)

    const beat = await client.executions.heartbeat(created.execution_id, {
      lease_token: token,
      extend_seconds: 60,
    })
    expect(beat.acknowledged).toBe(true)
    expect(beat.lease.remaining_ms).toBeGreaterThan(50_000)
    const beats = await client.executions.heartbeats([
      { execution_id: created.execution_id, lease_token: token },
      { execution_id: created.execution_id, lease_token: 'stale' },
    ])
    expect(beats.results[0]).toMatchObject({ acknowledged: true })
    expect(beats.results[1]).toMatchObject({ error: { code: 'lease_lost' } })

    const { leases } = await client.leases.list({ worker_id: 'w1' })
    expect(leases.map((l) => l.execution_id)).toContain(created.execution_id)

    const done = await client.executions.complete(created.execution_id, {
      lease_token: token,
      result: { sent: true },
      external_id: 'msg-1',
    })
    expect(done).toMatchObject({ status: 'success', outcome_recorded: true })
    // The same report again gets the first answer; a different one is refused.
    expect(
      await client.executions.complete(created.execution_id, { lease_token: token, result: { sent: true } }),
    ).toEqual(done)
    await expect(
      client.executions.fail(created.execution_id, { lease_token: token, error: 'x' }),
    ).rejects.toBeInstanceOf(OutcomeAlreadyReportedError)

    const record = await client.executions.get(created.execution_id)
    expect(record.status).toBe('success')
    expect(record.outcome).toMatchObject({ success: true, result: { sent: true }, external_id: 'msg-1' })
    expect(record.history).toEqual([
      expect.objectContaining({ attempt: 1, worker_id: 'w1', outcome: 'success' }),
    ])

    const replayed = await client.executions.replay(created.execution_id)
    expect(replayed.replayed_from).toBe(created.execution_id)
  })

  it('release answers what the route declares: the outcome shape, with next_attempt_at', async () => {
    const { client } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'later' })
    const [claimed] = (await client.executions.claim({ worker_id: 'w1', task: 'later' })).executions
    const before = Date.now()
    const released = await client.executions.release(execution_id, {
      lease_token: claimed!.lease.token,
      delay_seconds: 60,
    })
    expect(released).toMatchObject({ execution_id, status: 'scheduled', outcome_recorded: true })
    const due = Date.parse(released.next_attempt_at ?? '')
    expect(due).toBeGreaterThanOrEqual(before + 59_000)
    expect(due).toBeLessThanOrEqual(Date.now() + 61_000)
  })

  it('batch outcomes, release, cancel, claim by id, and their errors', async () => {
    const { client } = await tenantOn(server)
    const a = await client.executions.enqueue({ task: 'batch' })
    const b = await client.executions.enqueue({ task: 'batch' })
    const { executions } = await client.executions.claim({ worker_id: 'w2', task: ['batch'], max: 2 })
    expect(executions).toHaveLength(2)
    const answer = await client.executions.reportOutcomes([
      { execution_id: executions[0]!.execution_id, lease_token: executions[0]!.lease.token, success: true },
      { execution_id: executions[1]!.execution_id, lease_token: 'stale', success: true },
    ])
    expect(answer.results[0]).toMatchObject({ status: 'success' })
    expect(answer.results[1]).toMatchObject({ error: { code: 'lease_lost', status: 409 } })

    const second = executions[1]!
    const released = await client.executions.release(second.execution_id, { lease_token: second.lease.token })
    expect(released).toMatchObject({ status: 'pending', attempt: 1 })
    await expect(
      client.executions.release(second.execution_id, { lease_token: 'stale' }),
    ).rejects.toBeInstanceOf(LeaseLostError)

    const byId = await client.executions.claimById(second.execution_id, {
      worker_id: 'w2',
      lease_seconds: 30,
    })
    expect(byId.execution_id).toBe(second.execution_id)
    await expect(
      client.executions.claimById(second.execution_id, { worker_id: 'w3' }),
    ).rejects.toBeInstanceOf(ClaimFailedError)
    const cancel = await client.executions.cancel(second.execution_id)
    expect(cancel.cancel_requested).toBe(true)
    await expect(
      client.executions.heartbeat(second.execution_id, { lease_token: byId.executions[0]!.lease.token }),
    ).rejects.toBeInstanceOf(ExecutionCancelledError)
    await expect(client.executions.replay(b.execution_id)).rejects.toBeInstanceOf(ConflictError)
    await expect(client.executions.get('exec_nope')).rejects.toBeInstanceOf(NotFoundError)
    const invalid = await client.executions.enqueue({ task: '' }).catch((e: unknown) => e)
    expect(invalid).toBeInstanceOf(ValidationError)
    expect((invalid as ValidationError).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'task' })]),
    )
    expect(a.execution_id).toBeTruthy()
  })

  it('list pages through executions with cursors', async () => {
    const { client } = await tenantOn(server)
    await client.executions.enqueueBulk(Array.from({ length: 7 }, (_, i) => ({ task: 'page', payload: i })))
    const page = await client.executions.list({ task: 'page', limit: 3 })
    expect(page.executions).toHaveLength(3)
    expect(page.has_more).toBe(true)
    const all = []
    for await (const e of client.executions.iterate({ task: 'page', limit: 3, status__in: ['pending'] }))
      all.push(e)
    expect(new Set(all.map((e) => e.execution_id)).size).toBe(7)
  })

  it('workers, queues, auth and tenants', async () => {
    const { client, apiKey } = await tenantOn(server)
    await client.workers.heartbeat({ worker_id: 'w9', handlers: ['x', 'y'] })
    const { workers } = await client.workers.list()
    expect(workers).toEqual([
      expect.objectContaining({ worker_id: 'w9', handlers: ['x', 'y'], state: 'active' }),
    ])
    await client.workers.delete('w9')
    await expect(client.workers.delete('w9')).rejects.toBeInstanceOf(NotFoundError)

    await client.executions.enqueue({ task: 'q' })
    const { queues } = await client.queues.list()
    expect(queues).toEqual([expect.objectContaining({ task: 'q', pending: 1 })])

    const me = await client.auth.me()
    expect(me.tenant_id).toBeTruthy()
    const changed = await client.auth.update({ require_lease_token: !me.require_lease_token })
    expect(changed.require_lease_token).toBe(!me.require_lease_token)
    expect((await client.auth.me()).require_lease_token).toBe(!me.require_lease_token)
    const { api_key } = await client.auth.regenerateKey()
    expect(api_key).not.toBe(apiKey)
    expect(client.apiKey).toBe(api_key)
    expect((await client.auth.me()).tenant_id).toBe(me.tenant_id)
    await expect(new Client({ baseUrl: server.url, apiKey }).auth.me()).rejects.toBeInstanceOf(
      UnauthorizedError,
    )

    const admin = new Client({ baseUrl: server.url, apiKey: server.adminKey })
    const tenant = await admin.tenants.create({ name: 'acme' })
    expect(tenant).toMatchObject({ name: 'acme', api_key: expect.stringMatching(/^cue_sk_[0-9a-f]{32}$/) })
    expect(await client.health()).toBe(true)
    expect(await client.ready()).toBe(true)
  })

  it('streams execution events', async () => {
    const { client } = await tenantOn(server)
    const stop = new AbortController()
    const seen: string[] = []
    const reading = (async () => {
      for await (const event of client.events.stream({ signal: stop.signal })) {
        seen.push(`${event.execution_id}:${event.status}`)
        if (event.status === 'success') break
      }
    })()
    // The stream subscribes asynchronously: keep enqueuing until one shows up.
    let id = ''
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      id = (await client.executions.enqueue({ task: 'ev' })).execution_id
      await new Promise((r) => setTimeout(r, 20))
    }
    const [e] = (await client.executions.claim({ worker_id: 'w', task: 'ev', max: 50 })).executions
    await client.executions.complete(e!.execution_id, { lease_token: e!.lease.token })
    await reading
    stop.abort()
    expect(seen.some((s) => s.endsWith(':pending'))).toBe(true)
    expect(seen.at(-1)).toMatch(/:success$/)
    expect(id).toBeTruthy()
  })

  it('cues: preview, create, list, get, update, pause, resume, fire, delete', async () => {
    const { client } = await tenantOn(server)
    const preview = await client.cues.preview({
      schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'UTC' },
      count: 3,
    })
    expect(preview.next_runs).toHaveLength(3)
    expect(preview.next_runs.every((t) => t.endsWith('T03:00:00.000Z'))).toBe(true)
    const cue = await client.cues.create({
      name: 'nightly',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'Europe/Paris' },
      payload: { task: 'report', day: 'any' },
    })
    expect(cue).toMatchObject({ name: 'nightly', status: 'active', transport: 'worker', task: 'report' })
    expect(cue.next_run).not.toBeNull()
    expect((await client.cues.list({ status: 'active' })).cues.map((c) => c.id)).toEqual([cue.id])
    expect((await client.cues.pause(cue.id)).status).toBe('paused')
    expect((await client.cues.resume(cue.id)).status).toBe('active')
    expect((await client.cues.update(cue.id, { description: 'at three' })).description).toBe('at three')

    const fired = await client.cues.fire(cue.id, {
      payload_override: { day: 'monday' },
      idempotency_key: 'mon',
    })
    expect(fired).toMatchObject({
      cue_id: cue.id,
      task: 'report',
      payload: { task: 'report', day: 'monday' },
    })
    expect((await client.cues.fire(cue.id, { idempotency_key: 'mon' })).execution_id).toBe(fired.execution_id)
    const detail = await client.cues.get(cue.id)
    expect(detail.executions.map((e) => e.execution_id)).toEqual([fired.execution_id])

    await client.cues.delete(cue.id)
    await expect(client.cues.get(cue.id)).rejects.toBeInstanceOf(NotFoundError)
    const stats = await client.stats.get()
    expect(stats.reaper.overdue_leases).toBe(0)
  })

  it("webhook deliveries verify with the tenant's secret, raw or parsed", async () => {
    const { client } = await tenantOn(server)
    const deliveries: {
      headers: Record<string, string | string[] | undefined>
      raw: Buffer
      parsed: unknown
    }[] = []
    const receiver = await fakeServer((req, parsed, res, raw) => {
      deliveries.push({ headers: req.headers, raw, parsed })
      res.writeHead(204)
      res.end()
    })
    try {
      const { webhook_secret } = await client.auth.webhookSecret()
      expect(webhook_secret).toMatch(/^whsec_/)
      const cue = await client.cues.create({
        name: 'hook',
        schedule: { type: 'once', at: '2099-01-01T00:00:00Z' },
        callback: { url: `${receiver.url}/hook` },
        payload: { name: 'Zoë', emoji: '😀', n: 1 },
      })
      const fired = await client.cues.fire(cue.id)
      const delivery = await waitFor(() => deliveries[0], { timeoutMs: 10_000, message: 'no delivery' })
      expect(delivery.headers['x-cueapi-execution-id']).toBe(fired.execution_id)
      expect(verifyWebhook(webhook_secret, delivery.headers, delivery.raw)).toBe(true)
      expect(
        verifyWebhook(webhook_secret, delivery.headers, delivery.parsed as Record<string, unknown>),
      ).toBe(true)
      expect(checkWebhook('whsec_wrong', delivery.headers, delivery.raw)).toEqual({
        ok: false,
        reason: 'signature_mismatch',
      })
      // The bytes on the wire are Python's json.dumps(sort_keys=True): ASCII only.
      expect(delivery.raw.toString('latin1')).toMatch(/^[ -~]*$/)
    } finally {
      await receiver.close()
    }
  })
})
