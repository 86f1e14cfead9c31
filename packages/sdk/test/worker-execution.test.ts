import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ExecutionCancelledError, LeaseLostError } from '../src/errors.ts'
import { eventOf } from '../src/worker/events.ts'
import type { Execution } from '../src/worker/execution.ts'
import type { HandlerContext } from '../src/worker/handler.ts'
import { NonRetryableError, RetryAfterError, WorkerStoppingError } from '../src/worker/handler.ts'
import { execution, recordingSink } from './worker-fakes.ts'

const lost = () => new LeaseLostError('taken over', { code: 'lease_lost', status: 409 })
const noExtend = async () => {}

describe('Execution: one state', () => {
  it('moves only along the table: running → lost → released → done', () => {
    const e = execution('e1')
    expect(e.state).toBe('running')
    expect(e.handlerRunning).toBe(true)
    expect(e.lose('server', lost())).toBe(true)
    expect([e.state, e.lostBy]).toEqual(['lost', 'server'])
    // A lost lease cannot be lost again, nor cancelled.
    expect(e.lose('clock', lost())).toBe(false)
    expect(e.cancel()).toBe(false)
    expect(e.lostBy).toBe('server')
    expect(e.release(true)).toBe(true)
    expect(e.state).toBe('released')
    expect(e.handlerRunning).toBe(false)
    expect(e.report()).toBe(false)
    e.finish()
    expect(e.state).toBe('done')
    expect(e.release()).toBe(false)
  })

  it('a held execution starts running, or, lost or cancelled while held, never runs its handler', async () => {
    const held = execution('e1', {}, Date.now(), { held: true })
    expect([held.state, held.leaseHeld, held.handlerRunning]).toEqual(['held', true, false])
    expect(held.start()).toBe(true)
    expect(held.state).toBe('running')
    expect(held.start()).toBe(false)

    let ran = 0
    const handler = async () => {
      ran++
    }
    const byClock = execution('e2', {}, Date.now(), { held: true })
    expect(byClock.lose('clock', lost())).toBe(true)
    expect(byClock.start()).toBe(false)
    expect(await byClock.run(handler, 'w1', noExtend, recordingSink().sink)).toEqual({
      next: 'release',
      reason: 'lease_lost',
    })
    const byServer = execution('e3', {}, Date.now(), { held: true })
    byServer.lose('server', lost())
    expect(await byServer.run(handler, 'w1', noExtend, recordingSink().sink)).toEqual({ next: 'finish' })
    const cancelled = execution('e4', {}, Date.now(), { held: true })
    expect(cancelled.cancel()).toBe(true)
    expect(await cancelled.run(handler, 'w1', noExtend, recordingSink().sink)).toEqual({
      next: 'release',
      reason: 'cancelled',
    })
    expect(ran).toBe(0)
  })

  it('a reporting execution can only finish', () => {
    const e = execution('e1')
    expect(e.report()).toBe(true)
    expect(e.lose('server', lost())).toBe(false)
    expect(e.cancel()).toBe(false)
    expect(e.release(true)).toBe(false)
    expect(e.state).toBe('reporting')
  })

  it('aborts the signal once, with the first reason, whether or not it was read before', () => {
    const read = execution('e1')
    const signal = read.signal
    expect(signal.aborted).toBe(false)
    read.cancel()
    read.release(true)
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBeInstanceOf(ExecutionCancelledError)

    // Nobody read the signal before the abort: it is made aborted on first use.
    const unread = execution('e2')
    unread.release(true)
    expect(unread.signal.aborted).toBe(true)
    expect(unread.signal.reason).toBeInstanceOf(WorkerStoppingError)
  })

  it('the deadline starts at the claim send time plus the lease', () => {
    const e = execution('e1', {}, 1_000_000)
    expect(e.deadline).toBe(1_000_000 + 30_000)
    expect(e.leaseSeconds).toBe(30)
  })
})

describe('eventOf', () => {
  it("an event carries every field of the execution's info and its own, and shares no object with the info", () => {
    const e = execution('e1', { cue_id: 'cue_1', cue_name: 'nightly', attempt: 2 })
    const event = eventOf(e.info, { success: true, status: 'success' })
    expect(event).toEqual({ ...e.info, success: true, status: 'success' })
    expect(Object.keys(event)).toEqual([...Object.keys(e.info), 'success', 'status'])
    expect(event).not.toBe(e.info)
  })
})

describe('Execution.run', () => {
  const run = (
    e: ReturnType<typeof execution>,
    handler: Parameters<typeof e.run>[0],
    sink = recordingSink().sink,
  ) => e.run(handler, 'w1', noExtend, sink)

  it('builds no completed event nobody listens to (issue 13 §2)', async () => {
    const rec = recordingSink()
    const after = await run(execution('e1'), async () => 'ok', { ...rec.sink, listening: () => false })
    expect(after).toEqual({ next: 'report', outcome: { result: 'ok', success: true } })
    expect(rec.events).toEqual([])
  })

  it('reports the result with the evidence, and leaves an undefined result out', async () => {
    const rec = recordingSink()
    const e = execution('e1')
    const after = await run(
      e,
      async (ctx) => {
        ctx.evidence({ external_id: 'x1' })
        ctx.evidence({ summary: 'done' })
        return { n: (ctx.payload as { n: number }).n + 1 }
      },
      rec.sink,
    )
    expect(after).toEqual({
      next: 'report',
      outcome: { success: true, result: { n: 2 }, external_id: 'x1', summary: 'done' },
    })
    expect(rec.named('completed')).toEqual([expect.objectContaining({ executionId: 'e1', result: { n: 2 } })])
    expect(await run(execution('e2'), async () => undefined)).toEqual({
      next: 'report',
      outcome: { success: true },
    })
  })

  it('reports failures: retryable, final, with a retry delay, and a payload the schema refuses', async () => {
    const rec = recordingSink()
    expect(
      await run(
        execution('e1'),
        async () => {
          throw new Error('kaput')
        },
        rec.sink,
      ),
    ).toEqual({ next: 'report', outcome: { success: false, error: 'kaput' } })
    expect(
      await run(execution('e2'), async () => {
        throw new NonRetryableError('bad input')
      }),
    ).toEqual({ next: 'report', outcome: { success: false, error: 'bad input', retry: false } })
    expect(
      await run(execution('e3'), async () => {
        throw new RetryAfterError('slow down', 42)
      }),
    ).toEqual({ next: 'report', outcome: { success: false, error: 'slow down', retry_after_seconds: 42 } })
    let ran = false
    const after = await run(execution('e4', { payload: { n: 'x' } }), {
      schema: z.object({ n: z.number() }),
      handler: async () => {
        ran = true
      },
    })
    expect(ran).toBe(false)
    expect(after).toMatchObject({ next: 'report', outcome: { success: false, retry: false } })
    expect(rec.named('failed')).toEqual([expect.objectContaining({ executionId: 'e1', retry: true })])
  })

  it('a task without a handler is released after a delay', async () => {
    expect(await run(execution('e1'), undefined)).toEqual({
      next: 'release',
      reason: 'no_handler',
      delaySeconds: 5,
    })
  })

  it('what an aborted handler does next depends on why it was aborted', async () => {
    const aborted = (e: ReturnType<typeof execution>, abort: () => void) =>
      run(e, async (ctx: HandlerContext) => {
        abort()
        throw ctx.signal.reason
      })
    const cancelled = execution('c')
    expect(await aborted(cancelled, () => cancelled.cancel())).toEqual({
      next: 'release',
      reason: 'cancelled',
    })
    const byServer = execution('s')
    expect(await aborted(byServer, () => byServer.lose('server', lost()))).toEqual({ next: 'finish' })
    // Our clock is not the server's: give the lease back instead of spending an attempt.
    const byClock = execution('k')
    expect(await aborted(byClock, () => byClock.lose('clock', lost()))).toEqual({
      next: 'release',
      reason: 'lease_lost',
    })
    const stopped = execution('r')
    expect(await aborted(stopped, () => stopped.release(true))).toEqual({ next: 'finish' })
  })

  it('a handler that throws because it was aborted did not fail: no failed event', async () => {
    const rec = recordingSink()
    for (const [id, abort] of [
      ['stopping', (e: Execution) => e.release(true)],
      ['lost', (e: Execution) => e.lose('server', lost())],
      ['expired', (e: Execution) => e.lose('clock', lost())],
      ['cancelled', (e: Execution) => e.cancel()],
    ] as const) {
      const e = execution(id)
      await run(
        e,
        async (ctx: HandlerContext) => {
          abort(e)
          throw ctx.signal.reason
        },
        rec.sink,
      )
    }
    expect(rec.named('failed')).toEqual([])
    await run(
      execution('real'),
      async () => {
        throw new Error('kaput')
      },
      rec.sink,
    )
    expect(rec.named('failed').map((f) => f.executionId)).toEqual(['real'])
  })

  it('a result returned after an abort is reported unless the lease is surely gone', async () => {
    const byClock = execution('k')
    expect(
      await run(byClock, async () => {
        byClock.lose('clock', lost())
        return 'late'
      }),
    ).toEqual({ next: 'report', outcome: { success: true, result: 'late' } })
    const byServer = execution('s')
    expect(
      await run(byServer, async () => {
        byServer.lose('server', lost())
        return 'late'
      }),
    ).toEqual({ next: 'finish' })
  })

  it('the context carries the claim, extends with the length asked for, and reads the live deadline', async () => {
    const e = execution('e1', { cue_id: 'cue_1', cue_name: 'nightly', attempt: 2 })
    const extended: (number | undefined)[] = []
    const ctx = e.context({ a: 1 }, 'w1', async (_, seconds) => {
      extended.push(seconds)
    })
    expect(ctx).toMatchObject({
      executionId: 'e1',
      payload: { a: 1 },
      attempt: 2,
      cueId: 'cue_1',
      cueName: 'nightly',
      workerId: 'w1',
      fencingToken: 1,
    })
    await ctx.heartbeat()
    await ctx.extend(120)
    await ctx.heartbeat()
    expect(extended).toEqual([undefined, 120, 120])
    e.deadline = 5000
    expect(ctx.leaseValidUntil.getTime()).toBe(5000)
  })

  it('a handler can take the context apart: methods keep their execution, getters read it live', async () => {
    const e = execution('e1')
    const extended: [Execution, number | undefined][] = []
    const { payload, heartbeat, extend, evidence, signal, leaseValidUntil } = e.context(
      { a: 1 },
      'w1',
      async (of, s) => {
        extended.push([of, s])
      },
    )
    await extend(60)
    await heartbeat()
    evidence({ summary: 'taken apart' })
    expect([payload, extended, e.evidence]).toEqual([
      { a: 1 },
      [
        [e, 60],
        [e, 60],
      ],
      { summary: 'taken apart' },
    ])
    expect(signal.aborted).toBe(false)
    expect(leaseValidUntil.getTime()).toBe(e.deadline)
    e.lose('server', lost())
    expect(e.context(null, 'w1', noExtend).signal.aborted).toBe(true)
  })
})
