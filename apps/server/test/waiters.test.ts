import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClientGone, Waiters } from '../src/waiters.ts'

const empty = async (): Promise<number[]> => []

afterEach(() => {
  vi.restoreAllMocks()
})

describe('Waiters (issue 13 §4)', () => {
  it('1,000 waiting long-polls share a timer, and each times out at its deadline', async () => {
    const waiters = new Waiters(60_000)
    const armed = vi.spyOn(globalThis, 'setTimeout')
    const started = Date.now()
    const polls = Array.from({ length: 1000 }, () =>
      waiters.longPoll('t1', ['a'], 1, 300, new ClientGone(), empty).then(() => Date.now() - started),
    )
    await vi.waitFor(() => expect(waiters.size).toBe(1000))
    expect(armed.mock.calls.length).toBeLessThanOrEqual(2)
    const took = await Promise.all(polls)
    expect(Math.min(...took)).toBeGreaterThanOrEqual(300)
    expect(Math.max(...took)).toBeLessThan(2000)
    expect(waiters.size).toBe(0)
    waiters.close()
  })

  it('a kick wakes one waiter to attempt again, and a gone client ends its wait at once', async () => {
    const waiters = new Waiters(60_000)
    let attempts = 0
    const attempt = async () => (++attempts === 2 ? [1] : [])
    const kicked = waiters.longPoll('t1', ['a'], 1, 10_000, new ClientGone(), attempt)
    const gone = new ClientGone()
    const aborted = waiters.longPoll('t1', ['b'], 1, 10_000, gone, empty)
    await vi.waitFor(() => expect(waiters.size).toBe(2))
    waiters.notify('t1', new Map([['a', 1]]))
    expect(await kicked).toEqual([1])
    gone.abort()
    expect(await aborted).toEqual([])
    expect(waiters.size).toBe(0)
    waiters.close()
  })

  it('shutdown answers every waiter at once', async () => {
    const waiters = new Waiters(60_000)
    const polls = Array.from({ length: 10 }, () =>
      waiters.longPoll('t1', null, 1, 10_000, new ClientGone(), empty),
    )
    await vi.waitFor(() => expect(waiters.size).toBe(10))
    waiters.close()
    expect(await Promise.all(polls)).toEqual(Array.from({ length: 10 }, () => []))
  })
})
