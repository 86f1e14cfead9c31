import type { BatchHeartbeatResponse, HeartbeatResponse, OutcomeResponse } from '@cuekit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RequestOptions } from '../src/client/request.ts'
import {
  ConflictError,
  ConnectionError,
  ExecutionCancelledError,
  LeaseLostError,
  ValidationError,
} from '../src/errors.ts'
import type { BatchHeartbeatInput } from '../src/types.ts'
import { type LeaseApi, LeaseKeeper } from '../src/worker/lease-keeper.ts'
import { deferred, execution, recordingSink } from './worker-fakes.ts'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

const view = (remainingMs: number) => ({
  worker_id: 'w1',
  epoch: 1,
  claimed_at: '2026-01-01T00:00:00.000Z',
  expires_at: '2026-01-01T00:00:30.000Z',
  remaining_ms: remainingMs,
  lease_seconds: remainingMs / 1000,
  heartbeats: 1,
  last_heartbeat_at: null,
})
const beatOk = (id: string, remainingMs = 30_000): HeartbeatResponse => ({
  acknowledged: true,
  execution_id: id,
  lease_extended_until: '2026-01-01T00:00:30.000Z',
  lease: view(remainingMs),
})
const itemError = (id: string, code: string) => ({
  execution_id: id,
  error: { code, message: code.replace('_', ' '), status: 409 },
})

/** A lease API whose batch heartbeats the test answers; the rest is scripted per test. */
function fakeApi(overrides: Partial<LeaseApi> = {}) {
  const heartbeats = deferred<
    { leases: BatchHeartbeatInput[]; options?: RequestOptions & { workerId?: string } },
    BatchHeartbeatResponse
  >()
  const api: LeaseApi = {
    heartbeats: (leases, options) => heartbeats.fn({ leases, options }),
    heartbeat: async (id) => beatOk(id),
    release: async (id) =>
      ({ execution_id: id, status: 'pending', attempt: 0, outcome_recorded: true }) as OutcomeResponse,
    ...overrides,
  }
  return { api, heartbeats: heartbeats.calls }
}

describe('LeaseKeeper', () => {
  it('arms one timer for a claimed batch, not one per execution (issue 13 §2)', async () => {
    const { api, heartbeats } = fakeApi()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, recordingSink().sink)
    const batch = Array.from({ length: 16 }, (_, i) => execution(`e${i}`))
    const armed = vi.spyOn(globalThis, 'setTimeout')
    for (const e of batch) keeper.track(e, Date.now())
    for (const e of batch.slice(0, 15)) keeper.forget(e)
    expect(armed).toHaveBeenCalledTimes(1)
    armed.mockRestore()
    // The timer, armed for the first lease, still heartbeats the one left.
    await vi.advanceTimersByTimeAsync(10_000)
    expect(heartbeats).toHaveLength(1)
    expect(heartbeats[0]!.input.leases.map((l) => l.execution_id)).toEqual(['e15'])
  })

  it('sends one batch heartbeat for every lease at a third of the lease, and keeps going', async () => {
    const { api, heartbeats } = fakeApi()
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, rec.sink)
    const a = execution('a')
    const b = execution('b')
    keeper.track(a, Date.now())
    await vi.advanceTimersByTimeAsync(4000)
    keeper.track(b, Date.now())
    await vi.advanceTimersByTimeAsync(5999)
    expect(heartbeats).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    // a is due; b rides along although it is not due yet.
    expect(heartbeats).toHaveLength(1)
    expect(heartbeats[0]!.input.leases).toEqual([
      { execution_id: 'a', lease_token: 'tok-a', extend_seconds: undefined },
      { execution_id: 'b', lease_token: 'tok-b', extend_seconds: undefined },
    ])
    expect(heartbeats[0]!.input.options?.workerId).toBe('w1')
    heartbeats[0]!.resolve({ results: [beatOk('a', 30_000), beatOk('b', 30_000)] })
    await vi.advanceTimersByTimeAsync(0)
    expect(a.deadline).toBe(Date.now() + 30_000)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(heartbeats).toHaveLength(2)
    expect(heartbeats[1]!.input.leases).toHaveLength(2)
    keeper.stop()
  })

  it('a lease the server says is lost aborts its handler, once, and is not extended again', async () => {
    const { api, heartbeats } = fakeApi()
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1', heartbeatIntervalMs: 100 }, rec.sink)
    const a = execution('a')
    const b = execution('b')
    keeper.track(a, Date.now())
    keeper.track(b, Date.now())
    await vi.advanceTimersByTimeAsync(100)
    heartbeats[0]!.resolve({ results: [itemError('a', 'lease_lost'), beatOk('b')] })
    await vi.advanceTimersByTimeAsync(0)
    expect([a.state, a.lostBy]).toEqual(['lost', 'server'])
    expect(a.signal.reason).toBeInstanceOf(LeaseLostError)
    expect(rec.named('lost')).toEqual([expect.objectContaining({ executionId: 'a' })])
    await vi.advanceTimersByTimeAsync(100)
    expect(heartbeats[1]!.input.leases.map((l) => l.execution_id)).toEqual(['b'])
    keeper.stop()
  })

  it('a cancel learnt from a heartbeat aborts the handler with ExecutionCancelledError', async () => {
    const { api, heartbeats } = fakeApi()
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1', heartbeatIntervalMs: 100 }, rec.sink)
    const a = execution('a')
    keeper.track(a, Date.now())
    await vi.advanceTimersByTimeAsync(100)
    heartbeats[0]!.resolve({ results: [itemError('a', 'execution_cancelled')] })
    await vi.advanceTimersByTimeAsync(1000)
    expect(a.state).toBe('cancelled')
    expect(a.signal.reason).toBeInstanceOf(ExecutionCancelledError)
    expect(rec.named('cancelled')).toHaveLength(1)
    expect(heartbeats).toHaveLength(1)
    keeper.stop()
  })

  it('backs off while heartbeats fail, and takes the lease away when our clock passes its deadline', async () => {
    const { api, heartbeats } = fakeApi()
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, rec.sink)
    const a = execution('a', { lease: { token: 't', epoch: 1, expires_at: '', lease_seconds: 3 } })
    keeper.track(a, Date.now())
    const refuse = async () => {
      while (heartbeats.length > 0) {
        heartbeats.shift()!.reject(new ConnectionError('down', { code: 'connection_error', status: 0 }))
        await vi.advanceTimersByTimeAsync(0)
      }
    }
    for (let t = 0; t < 3000; t += 50) {
      await vi.advanceTimersByTimeAsync(50)
      await refuse()
    }
    expect(a.state).toBe('lost')
    expect(a.lostBy).toBe('clock')
    expect((a.signal.reason as LeaseLostError).status).toBe(0)
    const backoffs = rec.named('backoff')
    expect(backoffs.length).toBeGreaterThanOrEqual(2)
    expect(backoffs.every((b) => b.operation === 'heartbeat' && b.delayMs <= 1000)).toBe(true)
    expect(backoffs.map((b) => b.attempt)).toEqual(backoffs.map((_, i) => i + 1))
    expect(rec.errors.length).toBe(backoffs.length)
    expect(rec.named('lost')).toHaveLength(1)
    keeper.stop()
  })

  it('keeps a held lease (prefetched, no slot yet) alive, and loses it by the clock like a running one', async () => {
    const { api, heartbeats } = fakeApi()
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, rec.sink)
    const a = execution(
      'a',
      { lease: { token: 't', epoch: 1, expires_at: '', lease_seconds: 3 } },
      Date.now(),
      {
        held: true,
      },
    )
    keeper.track(a, Date.now())
    await vi.advanceTimersByTimeAsync(1000)
    expect(heartbeats.map((h) => h.input.leases.map((l) => l.execution_id))).toEqual([['a']])
    heartbeats[0]!.reject(new ConnectionError('down', { code: 'connection_error', status: 0 }))
    for (let t = 0; t < 2000; t += 50) {
      await vi.advanceTimersByTimeAsync(50)
      while (heartbeats.length > 1) {
        heartbeats.pop()!.reject(new ConnectionError('down', { code: 'connection_error', status: 0 }))
        await vi.advanceTimersByTimeAsync(0)
      }
    }
    expect([a.state, a.lostBy]).toEqual(['lost', 'clock'])
    expect(rec.named('lost')).toHaveLength(1)
    keeper.stop()
  })

  it('keeps a reporting lease alive until its deadline, then lets it go', async () => {
    const { api, heartbeats } = fakeApi()
    const keeper = new LeaseKeeper(api, { workerId: 'w1', heartbeatIntervalMs: 1000 }, recordingSink().sink)
    const a = execution('a', { lease: { token: 't', epoch: 1, expires_at: '', lease_seconds: 3 } })
    keeper.track(a, Date.now())
    a.report()
    await vi.advanceTimersByTimeAsync(1000)
    expect(heartbeats).toHaveLength(1)
    heartbeats[0]!.reject(new ConnectionError('down', { code: 'connection_error', status: 0 }))
    await vi.advanceTimersByTimeAsync(5000)
    // Retried while the lease may still be valid, never after: a reporting lease is not "lost".
    expect(heartbeats.length).toBeGreaterThan(1)
    for (const h of heartbeats.slice(1)) h.reject(new Error('down'))
    const sent = heartbeats.length
    await vi.advanceTimersByTimeAsync(10_000)
    expect(heartbeats).toHaveLength(sent)
    expect(a.state).toBe('reporting')
    keeper.stop()
  })

  it('ctx.extend: one heartbeat with the new length, and a refusal aborts the handler', async () => {
    const sent: { id: string; extend: number | undefined }[] = []
    let answer: 'ok' | 'lost' = 'ok'
    const { api } = fakeApi({
      heartbeat: async (id, input) => {
        sent.push({ id, extend: input.extend_seconds })
        if (answer === 'lost') throw new LeaseLostError('gone', { code: 'lease_lost', status: 409 })
        return beatOk(id, 120_000)
      },
    })
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, rec.sink)
    const a = execution('a')
    keeper.track(a, Date.now())
    await keeper.extend(a, 120)
    expect(sent).toEqual([{ id: 'a', extend: 120 }])
    expect(a.deadline).toBe(Date.now() + 120_000)
    answer = 'lost'
    await expect(keeper.extend(a, undefined)).rejects.toBeInstanceOf(LeaseLostError)
    expect([a.state, a.lostBy]).toEqual(['lost', 'server'])
    expect(rec.named('lost')).toHaveLength(1)
    keeper.stop()
  })

  it('release: retried when transient, silent when the lease is already gone, an error when refused', async () => {
    let failures = 2
    const releases: string[] = []
    const { api } = fakeApi({
      release: async (id) => {
        releases.push(id)
        if (id === 'gone') throw new ConflictError('gone', { code: 'lease_lost', status: 409 })
        if (id === 'bad') throw new ValidationError('bad', { code: 'validation_error', status: 422 })
        if (failures-- > 0) throw new ConnectionError('down', { code: 'connection_error', status: 0 })
        return { execution_id: id, status: 'pending', attempt: 0, outcome_recorded: true }
      },
    })
    const rec = recordingSink()
    const keeper = new LeaseKeeper(api, { workerId: 'w1' }, rec.sink)
    const done = keeper.release(execution('flaky'), 'stopping')
    await vi.advanceTimersByTimeAsync(5000)
    await done
    await keeper.release(execution('gone'), 'cancelled')
    await keeper.release(execution('bad'), 'no_handler', 5)
    expect(releases).toEqual(['flaky', 'flaky', 'flaky', 'gone', 'bad'])
    expect(rec.named('released')).toEqual([
      expect.objectContaining({ executionId: 'flaky', reason: 'stopping' }),
    ])
    expect(rec.errors.map((e) => e.message)).toEqual(['bad'])
  })
})
