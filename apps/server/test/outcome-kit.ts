import { expect } from 'vitest'
import type { TestApp } from './helpers.ts'

// What the outcome route tests share: a fired worker cue, a leased report, an error's shape.

/** A worker cue fired once: its id, the execution's id and its task. */
export async function firedCue(t: TestApp, mode = 'none', extra: Record<string, unknown> = {}) {
  const task = `job-${Math.random().toString(36).slice(2, 8)}`
  const cue = await t.json('POST', '/v1/cues', {
    name: task,
    transport: 'worker',
    schedule: { type: 'recurring', cron: '0 0 1 1 *' },
    payload: { task },
    verification: { mode },
    ...extra,
  })
  expect(cue.status, JSON.stringify(cue.body)).toBe(201)
  const fired = await t.json('POST', `/v1/cues/${cue.body.id}/fire`, {})
  expect(fired.status).toBe(200)
  return { cueId: cue.body.id as string, id: fired.body.id as string, task }
}

/** Claims the execution of `task` and reports `body` with its lease. */
export async function report(t: TestApp, task: string, body: Record<string, unknown>) {
  const claim = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task })
  expect(claim.body.claimed).toBe(true)
  const e = claim.body.executions[0]
  const r = await t.json('POST', `/v1/executions/${e.execution_id}/outcome`, {
    lease_token: e.lease.token,
    retry: false,
    ...body,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body
}

export function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status)
  expect(r.body.error).toMatchObject({ code, status })
  expect(typeof r.body.error.message).toBe('string')
  expect(r.body.error.message.length).toBeGreaterThan(10)
}
