import type { BatchOutcomeResponse, OutcomeResponse } from '@cuekit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConnectionError, LeaseLostError, ValidationError } from '../src/errors.ts'
import type { BatchOutcomeInput, OutcomeInput } from '../src/types.ts'
import type { Execution } from '../src/worker/execution.ts'
import { type ReportApi, Reporter } from '../src/worker/reporter.ts'
import { deferred, execution, recordingSink } from './worker-fakes.ts'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

const recorded = (id: string): OutcomeResponse => ({
  execution_id: id,
  status: 'success',
  attempt: 1,
  outcome_recorded: true,
})
const down = () => new ConnectionError('down', { code: 'connection_error', status: 0 })

/** A report API whose answers the test gives, and a reporter on it. */
function setup(options: { claimComing?: () => boolean } = {}) {
  const single = deferred<{ id: string; body: OutcomeInput }, OutcomeResponse>()
  const batch = deferred<BatchOutcomeInput[], BatchOutcomeResponse>()
  const api: ReportApi = {
    reportOutcome: (id, body) => single.fn({ id, body }),
    reportOutcomes: (outcomes) => batch.fn(outcomes),
  }
  const rec = recordingSink()
  const finished: Execution[] = []
  const reporter = new Reporter(api, {
    ...rec.sink,
    claimComing: options.claimComing ?? (() => false),
    finished: (e) => {
      finished.push(e)
    },
  })
  return { reporter, single: single.calls, batch: batch.calls, rec, finished }
}

describe('Reporter', () => {
  it('a lone outcome goes out at once on the single endpoint, with its lease token', async () => {
    const { reporter, single, rec, finished } = setup()
    const e = execution('a')
    reporter.add(e, { success: true, result: 1 })
    await vi.advanceTimersByTimeAsync(0)
    expect(single.map((c) => c.input)).toEqual([
      { id: 'a', body: { success: true, result: 1, lease_token: 'tok-a' } },
    ])
    single[0]!.resolve(recorded('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('reported')).toEqual([
      expect.objectContaining({ executionId: 'a', success: true, status: 'success' }),
    ])
    expect(finished).toEqual([e])
    expect(reporter.pending).toBe(false)
  })

  it('outcomes finishing while a report is in flight share the next request', async () => {
    const { reporter, single, batch, rec } = setup()
    reporter.add(execution('a'), { success: true })
    await vi.advanceTimersByTimeAsync(0)
    for (const id of ['b', 'c', 'd']) reporter.add(execution(id), { success: false, error: 'x' })
    await vi.advanceTimersByTimeAsync(0)
    expect(batch).toHaveLength(0)
    single[0]!.resolve(recorded('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(batch).toHaveLength(1)
    expect(batch[0]!.input.map((o) => [o.execution_id, o.lease_token])).toEqual([
      ['b', 'tok-b'],
      ['c', 'tok-c'],
      ['d', 'tok-d'],
    ])
    batch[0]!.resolve({ results: ['b', 'c', 'd'].map(recorded) })
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('reported')).toHaveLength(4)
  })

  it('a report whose answer was lost is sent again, the same, after a backoff', async () => {
    const { reporter, single, rec, finished } = setup()
    reporter.add(execution('a'), { success: true, result: 'v1' })
    await vi.advanceTimersByTimeAsync(0)
    single[0]!.reject(down())
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('backoff')).toEqual([expect.objectContaining({ operation: 'report', attempt: 1 })])
    expect(single).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(rec.named('backoff')[0]!.delayMs + 1)
    expect(single).toHaveLength(2)
    expect(single[1]!.input).toEqual(single[0]!.input)
    single[1]!.resolve(recorded('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(finished.map((e) => e.id)).toEqual(['a'])
    expect(rec.errors).toHaveLength(1)
  })

  it('one invalid item in a batch is isolated: the others are recorded', async () => {
    const { reporter, single, batch, rec, finished } = setup()
    reporter.add(execution('a'), { success: true })
    reporter.add(execution('bad'), { success: true })
    await vi.advanceTimersByTimeAsync(0)
    batch[0]!.reject(new ValidationError('invalid', { code: 'validation_error', status: 422 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(single.map((c) => c.input.id)).toEqual(['a'])
    single[0]!.resolve(recorded('a'))
    await vi.advanceTimersByTimeAsync(0)
    single[1]!.reject(new ValidationError('bad item', { code: 'validation_error', status: 422 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(finished.map((e) => e.id)).toEqual(['a', 'bad'])
    expect(rec.errors.map((e) => e.message)).toEqual(['bad item'])
  })

  it('a report refused for a lost lease announces the loss, unless the handler already knew', async () => {
    const { reporter, batch, rec, finished } = setup()
    const fresh = execution('fresh')
    const known = execution('known')
    known.lose('clock', new LeaseLostError('ran out', { code: 'lease_lost', status: 0 }))
    reporter.add(fresh, { success: true })
    reporter.add(known, { success: true })
    await vi.advanceTimersByTimeAsync(0)
    const lost = (id: string) => ({
      execution_id: id,
      error: { code: 'lease_lost', message: 'lease lost', status: 409 },
    })
    batch[0]!.resolve({ results: [lost('fresh'), lost('known')] })
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('lost').map((e) => e.executionId)).toEqual(['fresh'])
    expect(rec.named('reported')).toHaveLength(0)
    expect(finished).toHaveLength(2)
  })

  it('settles the answers a claim carried back, retrying those left out or answered 5xx', async () => {
    const { reporter, rec, single } = setup({ claimComing: () => true })
    for (const id of ['a', 'b', 'c']) reporter.add(execution(id), { success: true })
    await vi.advanceTimersByTimeAsync(0)
    // A claim is about to go: it takes them instead of a report request.
    expect(single).toHaveLength(0)
    const taken = reporter.take()
    expect(taken.map((t) => [t.body.execution_id, t.attempts])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ])
    reporter.settle(taken, [
      recorded('a'),
      { execution_id: 'b', error: { code: 'storage_unavailable', message: 'later', status: 503 } },
    ])
    expect(rec.named('reported').map((e) => e.executionId)).toEqual(['a'])
    // Backing off: the next claim carries nothing.
    expect(reporter.take()).toEqual([])
    await vi.advanceTimersByTimeAsync(rec.named('backoff')[0]!.delayMs + 1)
    expect(reporter.take().map((t) => t.body.execution_id)).toEqual(['b', 'c'])
  })

  it('drained() sends what waited for a claim that will not come (the worker is stopping)', async () => {
    let coming = true
    const { reporter, single } = setup({ claimComing: () => coming })
    reporter.add(execution('a'), { success: true })
    await vi.advanceTimersByTimeAsync(0)
    expect(single).toHaveLength(0)
    coming = false
    let drained = false
    void reporter.drained().then(() => {
      drained = true
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(single.map((c) => c.input.id)).toEqual(['a'])
    single[0]!.resolve(recorded('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(drained).toBe(true)
  })

  it('gives up on an outcome a minute past its lease, and abandon() reports what is left', async () => {
    const { reporter, single, rec, finished } = setup()
    const old = execution('old', {}, Date.now() - 200_000)
    reporter.add(old, { success: true })
    await vi.advanceTimersByTimeAsync(0)
    single[0]!.reject(down())
    await vi.advanceTimersByTimeAsync(0)
    expect(finished).toEqual([old])
    expect(rec.errors.map((e) => (e as { code?: string }).code)).toEqual([
      'connection_error',
      'outcome_not_reported',
    ])
    const { reporter: stopping, rec: rec2 } = setup({ claimComing: () => true })
    stopping.add(execution('left'), { success: true })
    stopping.abandon()
    expect(rec2.errors.map((e) => e.message)).toEqual(['stopped before the outcome of left was recorded'])
  })
})
