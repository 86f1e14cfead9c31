import type { ServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import {
  type Client,
  ExecutionCancelledError,
  LeaseLostError,
  NonRetryableError,
  UnauthorizedError,
  Worker,
  type WorkerEvents,
  type WorkerOptions,
  WorkerStoppingError,
} from '@cuekit/sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { networkError, outcomesIn, recordingFetch, startServer, tenantOn } from './helpers.ts'

let server: ServerProcess
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.kill()
})

const workers: Worker<never>[] = []
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 1000 })))
})

/** A worker that is stopped after the test, with every event it emitted recorded. */
function worker<T>(options: WorkerOptions<T>) {
  const w = new Worker<T>({ waitSeconds: 5, backoff: { initialMs: 100, maxMs: 500 }, ...options })
  workers.push(w as unknown as Worker<never>)
  const events: { name: keyof WorkerEvents; args: unknown[] }[] = []
  for (const name of [
    'claimed',
    'completed',
    'failed',
    'reported',
    'lost',
    'cancelled',
    'released',
    'backoff',
    'error',
    'stopped',
  ] as const) {
    w.on(name, (...args: unknown[]) => events.push({ name, args }))
  }
  const count = (name: keyof WorkerEvents) => events.filter((e) => e.name === name).length
  return { worker: w, events, count }
}

const settled = (client: Client, id: string, statuses: string[]) =>
  waitFor(
    async () => {
      const record = await client.executions.get(id)
      return statuses.includes(record.status) ? record : null
    },
    { timeoutMs: 10_000, intervalMs: 50, message: `${id} did not reach ${statuses.join('/')}` },
  )

describe('Worker', () => {
  it('runs handlers: results, evidence, schemas, failures and final failures', async () => {
    const { client, apiKey } = await tenantOn(server)
    const ok = await client.executions.enqueue({ task: 'double', payload: { n: 21 } })
    const bad = await client.executions.enqueue({ task: 'double', payload: { n: 'x' } })
    const boom = await client.executions.enqueue({ task: 'boom', max_attempts: 3 })
    const final = await client.executions.enqueue({ task: 'final', max_attempts: 3 })
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: 4,
      handlers: {
        double: {
          schema: z.object({ n: z.number() }),
          handler: async (ctx) => {
            ctx.evidence({ external_id: `calc-${ctx.executionId}`, summary: 'doubled' })
            return { doubled: ctx.payload.n * 2, attempt: ctx.attempt, epoch: ctx.fencingToken }
          },
        },
        boom: async () => {
          throw new Error('kaput')
        },
        final: async () => {
          throw new NonRetryableError('bad input')
        },
      },
    })
    await w.worker.start()
    await waitFor(() => w.count('reported') === 4, { timeoutMs: 10_000, message: 'four outcomes reported' })

    const okRecord = await client.executions.get(ok.execution_id)
    expect(okRecord.status).toBe('success')
    expect(okRecord.outcome).toMatchObject({
      result: { doubled: 42, attempt: 1, epoch: 1 },
      external_id: `calc-${ok.execution_id}`,
      summary: 'doubled',
    })
    const badRecord = await client.executions.get(bad.execution_id)
    expect(badRecord.status).toBe('failed')
    expect(badRecord.error_message).toMatch(/does not match the schema: n: /)
    const boomRecord = await client.executions.get(boom.execution_id)
    expect(boomRecord).toMatchObject({ status: 'retrying', error_message: 'kaput', attempt: 1 })
    expect(await client.executions.get(final.execution_id)).toMatchObject({
      status: 'failed',
      error_message: 'bad input',
    })
    const failed = w.events
      .filter((e) => e.name === 'failed')
      .map((e) => e.args[0] as { task: string; retry: boolean })
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ task: 'boom', retry: true }),
        expect.objectContaining({ task: 'final', retry: false }),
      ]),
    )
  })

  it('a handler running three times longer than its lease survives on batched heartbeats', async () => {
    const { client, apiKey } = await tenantOn(server)
    const ids = (await client.executions.enqueueBulk([{ task: 'long' }, { task: 'long' }])).execution_ids
    const net = recordingFetch()
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: 2,
      leaseSeconds: 1,
      fetch: net.fetch,
      handlers: {
        long: async (ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 3200))
          return ctx.signal.aborted ? 'aborted' : 'finished'
        },
      },
    })
    await w.worker.start()
    for (const id of ids) {
      const record = await settled(client, id, ['success', 'failed', 'retrying'])
      expect(record.status).toBe('success')
      expect(record.outcome?.result).toBe('finished')
      expect(record.history).toHaveLength(1)
    }
    const batches = net.calls.filter((c) => c.path === '/v1/executions/heartbeats')
    expect(net.calls.filter((c) => /^\/v1\/executions\/[^/]+\/heartbeat$/.test(c.path))).toHaveLength(0)
    // A third of a 1 s lease: about nine rounds in 3.2 s, each carrying both leases at once.
    expect(batches.length).toBeGreaterThanOrEqual(6)
    expect(batches.some((c) => (c.body as { leases: unknown[] }).leases.length === 2)).toBe(true)
    expect(w.count('lost')).toBe(0)
  })

  it('a lost lease aborts ctx.signal and its late outcome is not recorded', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'fragile', max_attempts: 3 })
    // Worker A cannot reach the heartbeat endpoint, so its 1 s lease runs out. It claims only
    // once, so the execution it loses goes to B.
    let claims = 0
    const cut = recordingFetch({
      intercept: (call) => {
        if (call.path === '/v1/executions/heartbeats') throw networkError()
        if (call.path === '/v1/executions/claim' && ++claims > 1) {
          return new Response(JSON.stringify({ claimed: false, executions: [] }), {
            headers: { 'content-type': 'application/json' },
          })
        }
        return undefined
      },
    })
    let reason: unknown
    const a = worker({
      baseUrl: server.url,
      apiKey,
      workerId: 'worker-a',
      leaseSeconds: 1,
      fetch: cut.fetch,
      handlers: {
        fragile: async (ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
          reason = ctx.signal.reason
          return 'late result from A'
        },
      },
    })
    await a.worker.start()
    await waitFor(() => a.count('claimed') === 1, { message: 'A claimed' })
    const b = worker({
      baseUrl: server.url,
      apiKey,
      workerId: 'worker-b',
      handlers: { fragile: async () => 'result from B' },
    })
    await b.worker.start()

    const record = await settled(client, execution_id, ['success', 'failed'])
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect(a.count('lost')).toBe(1)
    await waitFor(() => cut.calls.some((c) => c.path === `/v1/executions/${execution_id}/outcome`), {
      message: 'A tried to report',
    })
    await waitFor(() => a.worker.inFlight === 0)
    const final = await client.executions.get(execution_id)
    expect(final.outcome?.result).toBe('result from B')
    expect(final.history.map((t) => [t.worker_id, t.outcome])).toEqual([
      ['worker-a', 'lease_expired'],
      ['worker-b', 'success'],
    ])
    expect(a.count('reported')).toBe(0)
    expect(record.status).toBe('success')
  })

  it('a heartbeat answered lease_lost aborts the handler and nothing is reported', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'taken' })
    // The server says the lease is gone (as it would after a takeover) while our clock disagrees.
    const net = recordingFetch({
      intercept: (call) => {
        if (call.path !== '/v1/executions/heartbeats') return undefined
        const results = (call.body as { leases: { execution_id: string }[] }).leases.map((l) => ({
          execution_id: l.execution_id,
          error: { code: 'lease_lost', message: 'taken over', status: 409 },
        }))
        return new Response(JSON.stringify({ results }), { headers: { 'content-type': 'application/json' } })
      },
    })
    let reason: unknown
    const w = worker({
      baseUrl: server.url,
      apiKey,
      leaseSeconds: 30,
      heartbeatIntervalMs: 100,
      fetch: net.fetch,
      handlers: {
        taken: async (ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
          reason = ctx.signal.reason
          return 'ignored'
        },
      },
    })
    await w.worker.start()
    await waitFor(() => w.count('lost') === 1, { message: 'lost' })
    await waitFor(() => w.worker.inFlight === 0)
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect((reason as LeaseLostError).message).toBe('taken over')
    expect(net.calls.filter((c) => c.path.includes('/outcome'))).toHaveLength(0)
    expect((await client.executions.get(execution_id)).status).toBe('delivering')
  })

  it('a cancel reaches the handler through the next heartbeat', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'cancellable' })
    let reason: unknown
    const w = worker({
      baseUrl: server.url,
      apiKey,
      leaseSeconds: 1,
      handlers: {
        cancellable: async (ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
          reason = ctx.signal.reason
          throw ctx.signal.reason
        },
      },
    })
    await w.worker.start()
    await waitFor(() => w.count('claimed') === 1)
    await client.executions.cancel(execution_id)
    const record = await settled(client, execution_id, ['cancelled'])
    expect(reason).toBeInstanceOf(ExecutionCancelledError)
    expect(w.count('cancelled')).toBe(1)
    expect(w.count('failed')).toBe(0)
    await waitFor(() => w.count('released') === 1, { message: 'released after the cancel' })
    expect(record.history.at(-1)?.outcome).toBe('released')
  })

  it('stop() lets quick work finish, releases the rest at the deadline, and another worker takes it', async () => {
    const { client, apiKey } = await tenantOn(server)
    const quick = await client.executions.enqueue({ task: 'quick' })
    const slow = await client.executions.enqueue({ task: 'slow' })
    let slowReason: unknown
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: 2,
      handlers: {
        quick: async () => {
          await new Promise((resolve) => setTimeout(resolve, 300))
          return 'quick done'
        },
        slow: async (ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
          slowReason = ctx.signal.reason
          throw ctx.signal.reason
        },
      },
    })
    await w.worker.start()
    await waitFor(() => w.count('claimed') === 2, { message: 'both claimed' })
    const started = Date.now()
    await w.worker.stop({ timeoutMs: 1000 })
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(900)
    expect(took).toBeLessThan(4000)
    expect(slowReason).toBeInstanceOf(WorkerStoppingError)
    // Released, not failed: the handler only threw because it was aborted.
    expect(w.count('failed')).toBe(0)
    expect(w.count('stopped')).toBe(1)
    expect(w.events.find((e) => e.name === 'released')?.args[0]).toMatchObject({
      reason: 'stopping',
      task: 'slow',
    })
    expect(await client.executions.get(quick.execution_id)).toMatchObject({ status: 'success' })
    // Released, not failed: the attempt is not consumed and it is claimable at once.
    expect(await client.executions.get(slow.execution_id)).toMatchObject({ status: 'pending', attempt: 1 })

    const next = worker({ baseUrl: server.url, apiKey, handlers: { slow: async () => 'second worker' } })
    await next.worker.start()
    const record = await settled(client, slow.execution_id, ['success'])
    expect(record.history.map((t) => t.outcome)).toEqual(['released', 'success'])
  })

  it('an outcome whose response was lost is retried and recorded once', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'once' })
    let dropped = 0
    const net = recordingFetch({
      after: async (call, response) => {
        if (outcomesIn(call).length > 0 && dropped === 0) {
          dropped++
          await response.arrayBuffer()
          throw networkError()
        }
        return response
      },
    })
    const w = worker({ baseUrl: server.url, apiKey, fetch: net.fetch, handlers: { once: async () => 'v1' } })
    await w.worker.start()
    await waitFor(() => w.count('reported') === 1, { message: 'reported after the retry' })
    const reports = net.calls.flatMap((c) => outcomesIn(c)).filter((o) => o.execution_id === execution_id)
    expect(reports).toHaveLength(2)
    expect(reports[1]).toEqual(reports[0])
    expect(w.count('backoff')).toBeGreaterThanOrEqual(1)
    const record = await client.executions.get(execution_id)
    expect(record).toMatchObject({ status: 'success', attempt: 1 })
    expect(record.history).toHaveLength(1)
    expect(w.events.find((e) => e.name === 'reported')?.args[0]).toMatchObject({ status: 'success' })
  })

  it('a lease whose outcome is recorded is not heartbeated while the answer is retried', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_id } = await client.executions.enqueue({ task: 'quiet' })
    let reports = 0
    let retried: number | undefined
    const net = recordingFetch({
      intercept: async (call) => {
        // Hold the retry back: meanwhile every heartbeat of this lease answers lease_lost.
        if (call.path.endsWith('/outcome') && ++reports === 2) {
          retried = net.calls.length
          await new Promise((resolve) => setTimeout(resolve, 1000))
        }
        return undefined
      },
      after: async (call, response) => {
        if (call.path.endsWith('/outcome') && reports === 1) {
          await response.arrayBuffer()
          throw networkError()
        }
        return response
      },
    })
    const w = worker({
      baseUrl: server.url,
      apiKey,
      leaseSeconds: 1,
      heartbeatIntervalMs: 50,
      fetch: net.fetch,
      handlers: { quiet: async () => 'ok' },
    })
    await w.worker.start()
    await waitFor(() => w.count('reported') === 1, { message: 'reported' })
    const during = net.calls.slice(retried).filter((c) => c.path === '/v1/executions/heartbeats')
    expect(during.length).toBeLessThanOrEqual(2)
    expect(w.count('lost')).toBe(0)
    expect((await client.executions.get(execution_id)).status).toBe('success')
  })

  it('outcomes finishing together are coalesced into one batch report', async () => {
    const { client, apiKey } = await tenantOn(server)
    const n = 10
    const { execution_ids } = await client.executions.enqueueBulk(
      Array.from({ length: n }, (_, i) => ({ task: 'burst', payload: i })),
    )
    let arrived = 0
    let release!: () => void
    const barrier = new Promise<void>((resolve) => {
      release = resolve
    })
    let firstReport = true
    const net = recordingFetch({
      intercept: async (call) => {
        // Hold the first report back a little so the others pile up behind it.
        if (outcomesIn(call).length > 0 && firstReport) {
          firstReport = false
          await new Promise((resolve) => setTimeout(resolve, 300))
        }
        return undefined
      },
    })
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: n,
      fetch: net.fetch,
      handlers: {
        burst: async (ctx) => {
          if (++arrived === n) release()
          await barrier
          return ctx.payload
        },
      },
    })
    await w.worker.start()
    await waitFor(() => w.count('reported') === n, { timeoutMs: 10_000, message: 'all reported' })
    const reports = net.calls.map((c) => outcomesIn(c)).filter((o) => o.length > 0)
    expect(reports.length).toBeLessThanOrEqual(3)
    expect(Math.max(...reports.map((o) => o.length))).toBeGreaterThanOrEqual(n - 2)
    for (const id of execution_ids) expect((await client.executions.get(id)).status).toBe('success')
  })

  it('an idle worker claims every free slot in one long-poll (issue 13 §2)', async () => {
    const { apiKey } = await tenantOn(server)
    const net = recordingFetch()
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: 16,
      fetch: net.fetch,
      handlers: { wide: async () => {} },
    })
    await w.worker.start()
    await waitFor(() => net.calls.some((c) => c.path === '/v1/executions/claim'), {
      timeoutMs: 5000,
      message: 'a claim',
    })
    const claims = net.calls.filter((c) => c.path === '/v1/executions/claim')
    expect(claims.map((c) => (c.body as { max: number }).max)).toEqual([16])
  })

  it('quick handlers prefetch beyond the free slots, and stop() gives held leases back at once', async () => {
    const { client, apiKey } = await tenantOn(server)
    const net = recordingFetch()
    let unblock = () => {}
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve
    })
    const w = worker({
      baseUrl: server.url,
      apiKey,
      concurrency: 1,
      fetch: net.fetch,
      handlers: {
        quick: async () => 'quick',
        block: async () => {
          await blocked
          return 'unblocked'
        },
      },
    })
    await w.worker.start()
    // Quick handlers and quick round trips: claims soon ask for more than the one slot.
    const warm = await client.executions.enqueueBulk(Array.from({ length: 40 }, () => ({ task: 'quick' })))
    await waitFor(() => w.count('reported') === 40, { message: 'the warm-up reported' })
    const maxes = net.calls
      .filter((c) => c.path === '/v1/executions/claim')
      .map((c) => (c.body as { max: number }).max)
    expect(Math.max(...maxes)).toBeGreaterThan(1)
    for (const execution_id of warm.execution_ids.slice(0, 3)) {
      expect(await client.executions.get(execution_id)).toMatchObject({ status: 'success' })
    }
    // One claim takes a blocking execution and quick ones behind it: those wait, held.
    const batch = await client.executions.enqueueBulk([
      { task: 'block' },
      ...Array.from({ length: 5 }, () => ({ task: 'quick' })),
    ])
    await waitFor(() => w.count('claimed') >= 42, { message: 'the blocking one and a held one claimed' })
    const claimedIds = new Set(
      w.events
        .filter((e) => e.name === 'claimed')
        .map((e) => (e.args[0] as { executionId: string }).executionId),
    )
    const held = batch.execution_ids.slice(1).filter((id) => claimedIds.has(id))
    expect(held.length).toBeGreaterThan(0)
    const stopping = w.worker.stop({ timeoutMs: 2000 })
    // Given back at once, long before the stop deadline: another worker runs them meanwhile.
    const other = worker({ baseUrl: server.url, apiKey, handlers: { quick: async () => 'other' } })
    await other.worker.start()
    for (const id of held) {
      const record = await settled(client, id, ['success'])
      expect(record.outcome?.result).toBe('other')
      expect(record.history.map((t) => t.outcome)).toEqual(['released', 'success'])
    }
    // The blocking one still holds its slot: the held ones did not wait for the stop deadline.
    expect(await client.executions.get(batch.execution_ids[0]!)).toMatchObject({ status: 'delivering' })
    unblock()
    await stopping
  })

  it('start() rejects a refused API key', async () => {
    const w = worker({
      baseUrl: server.url,
      apiKey: `cue_sk_${'0'.repeat(32)}`,
      handlers: { x: async () => 1 },
    })
    await expect(w.worker.start()).rejects.toBeInstanceOf(UnauthorizedError)
  })
})

describe('Worker and a server that goes away', () => {
  it('backs off while the server restarts under a long-poll, reconnects and carries on', async () => {
    const own = await startServer()
    const { client, apiKey } = await tenantOn(own)
    const net = recordingFetch()
    const w = worker({
      baseUrl: own.url,
      apiKey,
      fetch: net.fetch,
      waitSeconds: 20,
      handlers: { after: async () => 'after restart' },
    })
    try {
      await w.worker.start()
      await waitFor(() => net.calls.some((c) => c.path === '/v1/executions/claim'), {
        message: 'long-polling',
      })
      await own.restart()
      await waitFor(() => w.count('backoff') >= 1, { message: 'the worker noticed' })
      const { execution_id } = await client.executions.enqueue({ task: 'after' })
      const record = await settled(client, execution_id, ['success'])
      expect(record.outcome?.result).toBe('after restart')
      const backoffs = w.events
        .filter((e) => e.name === 'backoff')
        .map((e) => e.args[0] as { operation: string; attempt: number; delayMs: number })
      expect(backoffs.every((b) => b.operation === 'claim' && b.delayMs <= 500)).toBe(true)
      expect(backoffs.map((b) => b.attempt)).toEqual(backoffs.map((_, i) => i + 1))
    } finally {
      await w.worker.stop()
      await own.kill()
    }
  })
})
