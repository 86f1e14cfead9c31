import type { BatchOutcomeResponse, ClaimedExecution, ClaimResponse } from '@cuekit/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RequestOptions } from '../src/client/request.ts'
import { ConnectionError, RateLimitError } from '../src/errors.ts'
import type { BatchOutcomeInput, ClaimInput } from '../src/types.ts'
import { Claimer, type ClaimerOptions, type OutcomeCarrier } from '../src/worker/claimer.ts'
import { claimed, deferred, recordingSink } from './worker-fakes.ts'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

type Item = { body: BatchOutcomeInput }

/** Outcomes waiting to be carried, and what the claimer did with them. */
function carrier(waiting: Item[] = []) {
  const log: string[] = []
  const outcomes: OutcomeCarrier<Item> = {
    ready: () => waiting.length > 0,
    take: () => waiting.splice(0),
    settle: (batch, results) => {
      log.push(`settle ${batch.length} with ${results.length}`)
    },
    retry: (batch, error) => {
      log.push(`retry ${batch.length}: ${error.message}`)
    },
    pump: () => {
      log.push('pump')
    },
    pumpSoon: () => {
      log.push('pumpSoon')
    },
  }
  return { outcomes, log, waiting }
}

function setup(options: Partial<ClaimerOptions> = {}, waiting: Item[] = []) {
  const claims = deferred<{ input: ClaimInput; options?: RequestOptions }, ClaimResponse>()
  const rec = recordingSink()
  const launched: ClaimedExecution[] = []
  const c = carrier(waiting)
  const claimer = new Claimer(
    { claim: (input, opts) => claims.fn({ input, options: opts }) },
    c.outcomes,
    {
      workerId: 'w1',
      tasks: ['work'],
      concurrency: 4,
      prefetch: 0,
      parallelClaims: 1,
      waitSeconds: 20,
      leaseSeconds: undefined,
      idleDelayMs: 1000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      ...options,
    },
    {
      ...rec.sink,
      grant: (execution) => execution,
      launch: (execution) => {
        launched.push(execution)
      },
    },
  )
  return { claimer, claims: claims.calls, rec, launched, ...c }
}

const answer = (...ids: string[]): ClaimResponse => ({
  claimed: ids.length > 0,
  executions: ids.map((id) => claimed(id)),
})

describe('Claimer', () => {
  it('long-polls for as many executions as it has free slots, and waits while all are taken', async () => {
    const { claimer, claims, launched } = setup()
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(claims.map((c) => c.input.input)).toEqual([
      { worker_id: 'w1', task: ['work'], max: 4, wait_seconds: 20, lease_seconds: undefined },
    ])
    claims[0]!.resolve(answer('a', 'b', 'c'))
    await vi.advanceTimersByTimeAsync(0)
    expect(launched.map((e) => e.execution_id)).toEqual(['a', 'b', 'c'])
    expect(claimer.running).toBe(3)
    expect(claims[1]!.input.input.max).toBe(1)
    claims[1]!.resolve(answer('d'))
    await vi.advanceTimersByTimeAsync(60_000)
    // Every slot is taken: no claim until one frees, and that claim will carry finished outcomes.
    expect(claims).toHaveLength(2)
    expect(claimer.claimComing).toBe(true)
    claimer.free()
    await Promise.resolve()
    claimer.free()
    await vi.advanceTimersByTimeAsync(0)
    // Slots freed in one turn of the event loop (handlers finishing together) share one claim.
    expect(claims).toHaveLength(3)
    expect(claims[2]!.input.input.max).toBe(2)
    const stopped = claimer.stop()
    expect(claimer.claimComing).toBe(false)
    expect(claims[2]!.input.options?.signal?.aborted).toBe(true)
    claims[2]!.reject(new Error('aborted'))
    await stopped
  })

  it('a second claim goes out only to carry outcomes, never as a second long-poll', async () => {
    const { claimer, claims, waiting } = setup({ concurrency: 150, parallelClaims: 2 })
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    // One long-poll for as much as a claim holds; the room left waits for it.
    expect(claims.map((c) => [c.input.input.max, c.input.input.wait_seconds])).toEqual([[100, 20]])
    claims[0]!.resolve(answer('a', 'b'))
    await vi.advanceTimersByTimeAsync(0)
    expect(claims.map((c) => [c.input.input.max, c.input.input.wait_seconds])).toEqual([
      [100, 20],
      [100, 20],
    ])
    // While that long-poll waits, a finished handler's outcome goes out on a second claim at once.
    waiting.push({ body: { execution_id: 'a', lease_token: 't', success: true } })
    claimer.free(5)
    await vi.advanceTimersByTimeAsync(0)
    expect(claims.map((c) => [c.input.input.max, c.input.input.wait_seconds])).toEqual([
      [100, 20],
      [100, 20],
      [49, 0],
    ])
    const stopped = claimer.stop()
    for (const c of claims.slice(1)) c.reject(new Error('aborted'))
    await stopped
  })

  it('prefetches what quick handlers start within a round trip, holds it, and launches it as slots free', async () => {
    const { claimer, claims, launched, waiting } = setup({ concurrency: 2, prefetch: 4 })
    const done = (id: string) => waiting.push({ body: { execution_id: id, lease_token: 't', success: true } })
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    claims[0]!.resolve(answer('a', 'b'))
    await vi.advanceTimersByTimeAsync(0)
    // Nothing is known of the handlers or the round trip yet: no prefetch.
    expect(claimer.prefetchNow()).toBe(0)
    done('a')
    done('b')
    claimer.free(1)
    claimer.free(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(claims[1]!.input.input).toMatchObject({ max: 2, wait_seconds: 0 })
    await vi.advanceTimersByTimeAsync(3)
    claims[1]!.resolve(answer('c', 'd'))
    await vi.advanceTimersByTimeAsync(0)
    // 1 ms handlers, a 3 ms round trip: two slots start six executions per round trip; at most 4.
    expect(claimer.prefetchNow()).toBe(4)
    expect(claims).toHaveLength(2)
    done('c')
    claimer.free(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(claims[2]!.input.input).toMatchObject({ max: 5, wait_seconds: 0 })
    claims[2]!.resolve(answer('e', 'f', 'g', 'h', 'i'))
    await vi.advanceTimersByTimeAsync(0)
    expect(launched.map((e) => e.execution_id)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect([claimer.running, claimer.waiting]).toEqual([2, 4])
    // A freed slot takes the oldest held lease at once, with no claim between.
    claimer.free(1)
    expect(launched.at(-1)?.execution_id).toBe('f')
    expect([claimer.running, claimer.waiting]).toEqual([2, 3])
    // One handler far longer than a round trip stops the prefetch at once.
    claimer.free(10_000)
    expect(claimer.prefetchNow()).toBe(0)
    expect(claims).toHaveLength(3)
    const stopped = claimer.stop()
    await vi.advanceTimersByTimeAsync(0)
    await stopped
    // Stopped: a freed slot launches nothing, and the held leases are the worker's to give back.
    claimer.free(1)
    expect(launched.at(-1)?.execution_id).toBe('g')
    expect(claimer.drop().map((e) => e.execution_id)).toEqual(['h', 'i'])
  })

  it('with a backlog, a full batch of prefetch room is claimed ahead while the handlers run', async () => {
    const { claimer, claims, waiting } = setup({ concurrency: 4, prefetch: 200, parallelClaims: 1 })
    const finish = (...ids: string[]) => {
      for (const id of ids) {
        waiting.push({ body: { execution_id: id, lease_token: 't', success: true } })
        claimer.free(0)
      }
    }
    const sent = () =>
      claims.map((c) => [c.input.input.max, c.input.input.wait_seconds, c.input.input.outcomes?.length ?? 0])
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    claims[0]!.resolve(answer('a', 'b', 'c', 'd'))
    await vi.advanceTimersByTimeAsync(0)
    finish('a', 'b', 'c', 'd')
    await vi.advanceTimersByTimeAsync(0)
    expect(sent()).toEqual([
      [4, 20, 0],
      [4, 0, 4],
    ])
    await vi.advanceTimersByTimeAsync(3)
    claims[1]!.resolve(answer('e', 'f', 'g', 'h'))
    await vi.advanceTimersByTimeAsync(0)
    expect(claimer.prefetchNow()).toBe(200)
    // A full answer while the four slots are busy: a full batch of the prefetch room goes out at
    // once, waiting neither for a long-poll nor for the running handlers.
    expect(sent().slice(2)).toEqual([[100, 0, 0]])
    // An empty answer: nothing more is claimed ahead, and no idle pause either (that is for a
    // long-poll that came back early): the next handler to finish has its outcome carried at once.
    claims[2]!.resolve(answer())
    await vi.advanceTimersByTimeAsync(0)
    expect(sent()).toHaveLength(3)
    finish('e')
    await vi.advanceTimersByTimeAsync(0)
    expect(sent()[3]).toEqual([100, 0, 1])
    const stopped = claimer.stop()
    claims[3]!.reject(new Error('aborted'))
    await vi.advanceTimersByTimeAsync(0)
    await stopped
  })

  it('finished outcomes ride on the next claim, which then does not wait', async () => {
    const outcome = { body: { execution_id: 'done1', lease_token: 't', success: true } }
    const { claimer, claims, log } = setup({}, [outcome])
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(claims[0]!.input.input).toMatchObject({ wait_seconds: 0, outcomes: [outcome.body] })
    const results: BatchOutcomeResponse['results'] = [
      { execution_id: 'done1', status: 'success', attempt: 1, outcome_recorded: true },
    ]
    claims[0]!.resolve({ ...answer(), results })
    await vi.advanceTimersByTimeAsync(0)
    expect(log).toEqual(['settle 1 with 1', 'pumpSoon'])
    // The next claim carries nothing and long-polls again, without an idle pause first.
    expect(claims[1]!.input.input).toMatchObject({ wait_seconds: 20 })
    expect(claims[1]!.input.input).not.toHaveProperty('outcomes')
    const stopped = claimer.stop()
    claims[1]!.reject(new Error('aborted'))
    await stopped
  })

  it('backs off with jitter while the server is unreachable, and hands carried outcomes back', async () => {
    const outcome = { body: { execution_id: 'done1', lease_token: 't', success: true } }
    const { claimer, claims, rec, log } = setup({ backoff: { initialMs: 100, maxMs: 1000 } }, [outcome])
    claimer.start()
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(0)
      claims[i]!.reject(new ConnectionError('refused', { code: 'connection_error', status: 0 }))
      await vi.advanceTimersByTimeAsync(1000)
    }
    const backoffs = rec.named('backoff')
    expect(backoffs.map((b) => [b.operation, b.attempt])).toEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => ['claim', attempt]),
    )
    // Equal jitter: between half and all of 100, 200, 400, 800, 1000, 1000 ms.
    const ceilings = [100, 200, 400, 800, 1000, 1000]
    backoffs.forEach((b, i) => {
      expect(b.delayMs).toBeGreaterThanOrEqual(ceilings[i]! / 2)
      expect(b.delayMs).toBeLessThanOrEqual(ceilings[i]!)
    })
    expect(rec.errors).toHaveLength(6)
    expect(log.slice(0, 2)).toEqual(['retry 1: refused', 'pumpSoon'])
    // Back: the count starts over.
    claims[6]!.resolve(answer('a'))
    await vi.advanceTimersByTimeAsync(0)
    claims[7]!.reject(new ConnectionError('refused', { code: 'connection_error', status: 0 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('backoff').at(-1)?.attempt).toBe(1)
    await claimer.stop()
  })

  it("a 429 waits at least the server's Retry-After", async () => {
    const { claimer, claims, rec } = setup({ backoff: { initialMs: 100, maxMs: 1000 } })
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    claims[0]!.reject(new RateLimitError('slow down', { code: 'rate_limited', status: 429, retryAfter: 7 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(rec.named('backoff')[0]?.delayMs).toBe(7000)
    await vi.advanceTimersByTimeAsync(6999)
    expect(claims).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(claims).toHaveLength(2)
    const stopped = claimer.stop()
    claims[1]!.reject(new Error('aborted'))
    await stopped
  })

  it.each([20, 0])(
    'pauses after an empty answer that came back early (waitSeconds %i)',
    async (waitSeconds) => {
      // 20: a server without long-polls; 0: a worker that does not long-poll must not spin either.
      const { claimer, claims } = setup({ idleDelayMs: 1000, waitSeconds })
      claimer.start()
      await vi.advanceTimersByTimeAsync(0)
      claims[0]!.resolve(answer())
      await vi.advanceTimersByTimeAsync(499)
      expect(claims).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(501)
      expect(claims).toHaveLength(2)
      const stopped = claimer.stop()
      claims[1]!.reject(new Error('aborted'))
      await stopped
    },
  )

  it('idle() resolves when the last slot frees', async () => {
    const { claimer, claims } = setup({ concurrency: 1 })
    claimer.start()
    await vi.advanceTimersByTimeAsync(0)
    claims[0]!.resolve(answer('a'))
    await vi.advanceTimersByTimeAsync(0)
    let idle = false
    void claimer.idle().then(() => {
      idle = true
    })
    const stopped = claimer.stop()
    await vi.advanceTimersByTimeAsync(0)
    await stopped
    expect(idle).toBe(false)
    claimer.free()
    await vi.advanceTimersByTimeAsync(0)
    expect(idle).toBe(true)
  })
})
