import { createHook } from 'node:async_hooks'
import { getEventListeners } from 'node:events'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'

// Issue 11 §4: an event stream that closes leaves nothing behind (listeners, timers).

/**
 * Timers created between `start()` and `stop()` that have neither fired nor been cleared (their
 * end is still seen after `stop()`). From async_hooks, which sees unref'd timers too
 * (process.getActiveResourcesInfo() does not).
 */
function timerTracker() {
  const live = new Set<number>()
  let counting = false
  const hook = createHook({
    init(id, type) {
      if (counting && type === 'Timeout') live.add(id)
    },
    destroy(id) {
      live.delete(id)
    },
  })
  return {
    start: () => {
      counting = true
      hook.enable()
    },
    stop: () => {
      counting = false
    },
    live: () => live.size,
    disable: () => hook.disable(),
  }
}

/** Opens /v1/events; `read` waits until the text so far contains a needle. */
async function openEvents(t: TestApp) {
  const res = await t.call('GET', '/v1/events')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const read = (needle: string) =>
    waitFor(
      async () => {
        if (text.includes(needle)) return true
        const { value } = await reader.read()
        text += decoder.decode(value)
        return text.includes(needle)
      },
      { timeoutMs: 5000 },
    )
  return { read, text: () => text, close: () => reader.cancel() }
}

/** Opens a stream, waits for `ready` and for one execution event, then closes it. */
async function streamOnce(t: TestApp) {
  const events = await openEvents(t)
  await events.read('event: ready')
  // An event makes the stream's loop go round once more (a new wait for the next one).
  const r = await t.json('POST', '/v1/executions', { task: 'events' })
  await events.read(r.body.execution_id)
  await events.close()
}

describe('/v1/events', () => {
  it('streams execution events as server-sent events', async () => {
    const t = await makeApp()
    const events = await openEvents(t)
    await events.read('event: ready')
    const r = await t.json('POST', '/v1/executions', { task: 'evt' })
    const id = r.body.execution_id as string
    await events.read(id)
    const line = events
      .text()
      .split('\n')
      .find((l) => l.startsWith('data:') && l.includes(id))!
    expect(JSON.parse(line.slice(5))).toMatchObject({
      type: 'execution',
      execution_id: id,
      task: 'evt',
      status: 'pending',
      attempt: 0,
    })
    await events.close()
  })

  it('closed streams leave no abort listener on the shutdown signal and no timer behind', async () => {
    const t = await makeApp()
    const shutdown = t.cuekit.services.shutdown
    const listeners = () => getEventListeners(shutdown, 'abort').length
    const listenersBefore = listeners()
    // One stream first, so timers created once per process or tenant are not counted.
    await streamOnce(t)
    const timers = timerTracker()
    timers.start()
    try {
      for (let i = 0; i < 15; i++) await streamOnce(t)
      timers.stop()
      const settled = () => listeners() <= listenersBefore && timers.live() === 0
      await waitFor(settled, {
        message: `abort listeners ${listeners()} (before: ${listenersBefore}), timers left ${timers.live()}`,
      })
    } finally {
      timers.disable()
    }
  })

  it('a stream open at shutdown ends', async () => {
    const t = await makeApp()
    const res = await t.call('GET', '/v1/events')
    const reader = res.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ready')
    t.cuekit.stopWaiting()
    await waitFor(async () => (await reader.read()).done)
  })
})
