import {
  BatchOutcomeRequest,
  BulkEnqueueRequest,
  ClaimRequest,
  EnqueueRequest,
  ERROR_CODES,
  ErrorCode,
  ExecutionRecord,
  isErrorCode,
  LIMITS,
  ListExecutionsQuery,
  OutcomeRequest,
  statusOf,
  TaskName,
} from '@cuekit/protocol'
import { describe, expect, it } from 'vitest'

describe('error codes', () => {
  it('every code has a 4xx/5xx status and a message, and the zod enum lists them all', () => {
    for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/)
      expect(status).toBeGreaterThanOrEqual(400)
      expect(status).toBeLessThan(600)
      expect(message.length).toBeGreaterThan(0)
      expect(ErrorCode.parse(code)).toBe(code)
    }
    expect(ErrorCode.options).toHaveLength(Object.keys(ERROR_CODES).length)
  })

  it('keeps the statuses docs/architecture.md names', () => {
    expect(statusOf('lease_lost')).toBe(409)
    expect(statusOf('outcome_already_reported')).toBe(409)
    expect(statusOf('not_execution_owner')).toBe(403)
    expect(statusOf('claim_failed')).toBe(409)
    expect(statusOf('validation_error')).toBe(422)
    expect(statusOf('payload_too_large')).toBe(413)
    expect(isErrorCode('nope')).toBe(false)
    expect(isErrorCode('toString')).toBe(false)
  })
})

describe('request schemas', () => {
  it('ClaimRequest: worker_id required, defaults, bounds, task as string or list', () => {
    expect(ClaimRequest.parse({ worker_id: 'w' })).toEqual({ worker_id: 'w', max: 1, wait_seconds: 0 })
    expect(ClaimRequest.parse({ worker_id: 'w', task: ['a', 'b'], max: 100, wait_seconds: 30 }).task).toEqual(
      ['a', 'b'],
    )
    for (const bad of [
      {},
      { worker_id: '' },
      { worker_id: 'w', max: 0 },
      { worker_id: 'w', max: 101 },
      { worker_id: 'w', wait_seconds: 31 },
      { worker_id: 'w', lease_seconds: 0 },
      { worker_id: 'w', lease_seconds: 43_201 },
      { worker_id: 'w', task: [] },
      { worker_id: 'w', unknown: 1 },
      { worker_id: 'x'.repeat(201) },
      { worker_id: 'a\nb' },
    ]) {
      expect(ClaimRequest.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
  })

  it('EnqueueRequest: task required, limits, and scheduled_for and delay_seconds are exclusive', () => {
    expect(EnqueueRequest.safeParse({ task: 't', payload: { any: ['json', 1, null] } }).success).toBe(true)
    expect(EnqueueRequest.safeParse({ task: 't', scheduled_for: '2030-01-01T00:00:00+02:00' }).success).toBe(
      true,
    )
    for (const bad of [
      { max_attempts: 0 },
      { max_attempts: 26 },
      { scheduled_for: 'tomorrow' },
      { scheduled_for: '2030-01-01T00:00:00Z', delay_seconds: 5 },
      { delay_seconds: -1 },
      { priority: 1.5 },
      { backoff_seconds: [] },
      { task: '' },
      { extra: true },
    ]) {
      expect(EnqueueRequest.safeParse({ task: 't', ...bad }).success, JSON.stringify(bad)).toBe(false)
    }
    // No task: nothing would ever claim a guessed one.
    for (const missing of [{}, { payload: { task: 'in-payload' } }]) {
      const r = EnqueueRequest.safeParse(missing)
      expect(r.success).toBe(false)
      expect(r.error?.issues[0]?.path).toEqual(['task'])
    }
    expect(BulkEnqueueRequest.safeParse({ executions: [{ task: 't' }, {}] }).error?.issues[0]?.path).toEqual([
      'executions',
      1,
      'task',
    ])
  })

  it('OutcomeRequest keeps CueAPI fields; batch items need a lease token', () => {
    const ok = OutcomeRequest.parse({ success: false, error: 'x', metadata: { a: 1 }, retry: false })
    expect(ok.retry).toBe(false)
    expect(OutcomeRequest.safeParse({ error: 'missing success' }).success).toBe(false)
    expect(BatchOutcomeRequest.safeParse({ outcomes: [{ execution_id: 'e', success: true }] }).success).toBe(
      false,
    )
    expect(
      BatchOutcomeRequest.safeParse({
        outcomes: Array.from({ length: 101 }, () => ({ execution_id: 'e', lease_token: 't', success: true })),
      }).success,
    ).toBe(false)
  })

  it('ListExecutionsQuery refuses out-of-range limits instead of clamping', () => {
    expect(ListExecutionsQuery.parse({ limit: '10' }).limit).toBe(10)
    expect(ListExecutionsQuery.safeParse({ limit: '101' }).success).toBe(false)
    expect(ListExecutionsQuery.safeParse({ limit: '0' }).success).toBe(false)
    expect(ListExecutionsQuery.parse({ status__in: 'pending,failed' }).status__in).toEqual([
      'pending',
      'failed',
    ])
    expect(ListExecutionsQuery.safeParse({ status__in: 'pending,bogus' }).success).toBe(false)
  })

  it('TaskName refuses control characters and over-long names', () => {
    expect(TaskName.safeParse('send-email').success).toBe(true)
    expect(TaskName.safeParse('ünïcode ✓').success).toBe(true)
    expect(TaskName.safeParse('tab\there').success).toBe(false)
    expect(TaskName.safeParse('x'.repeat(LIMITS.nameMaxLength + 1)).success).toBe(false)
  })
})

describe('records', () => {
  it('an execution record carries execution_id and id', () => {
    const shape = ExecutionRecord.shape
    expect(Object.keys(shape)).toEqual(
      expect.arrayContaining(['execution_id', 'id', 'attempts', 'lease', 'status']),
    )
  })
})
