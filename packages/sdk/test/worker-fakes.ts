import type { ClaimedExecution } from '@cuekit/protocol'
import type { WorkerEvents, WorkerSink } from '../src/worker/events.ts'
import { Execution } from '../src/worker/execution.ts'

// Fakes for the worker's parts: claimed executions, a sink that records events, and a request
// whose answer the test decides when to give.

export function claimed(id: string, overrides: Partial<ClaimedExecution> = {}): ClaimedExecution {
  return {
    execution_id: id,
    id,
    cue_id: null,
    cue_name: null,
    task: 'work',
    payload: { n: 1 },
    scheduled_for: '2026-01-01T00:00:00.000Z',
    attempt: 1,
    max_attempts: 3,
    lease: { token: `tok-${id}`, epoch: 1, expires_at: '2026-01-01T00:00:30.000Z', lease_seconds: 30 },
    ...overrides,
  }
}

/** A claimed execution that has its slot (running); `held: true` leaves it waiting for one. */
export function execution(
  id: string,
  overrides: Partial<ClaimedExecution> = {},
  sentAt = Date.now(),
  { held = false } = {},
) {
  const e = new Execution(claimed(id, overrides), sentAt)
  if (!held) e.start()
  return e
}

export type Recorded = { [K in keyof WorkerEvents]: { name: K; args: WorkerEvents[K] } }[keyof WorkerEvents]

/** A WorkerSink that keeps what it was told. */
export function recordingSink() {
  const events: Recorded[] = []
  const errors: Error[] = []
  const sink: WorkerSink = {
    emit: (name, ...args) => {
      events.push({ name, args } as Recorded)
    },
    emitError: (error) => {
      errors.push(error as Error)
    },
  }
  const named = <K extends keyof WorkerEvents>(name: K): WorkerEvents[K][0][] =>
    events.filter((e) => e.name === name).map((e) => e.args[0] as WorkerEvents[K][0])
  return { sink, events, errors, named }
}

/** A call the test answers: `resolve` or `reject` whenever it likes. */
export interface Pending<I, O> {
  input: I
  resolve(value: O): void
  reject(error: unknown): void
}

/** A function whose every call waits for the test to answer it, with the calls recorded. */
export function deferred<I, O>() {
  const calls: Pending<I, O>[] = []
  const fn = (input: I) =>
    new Promise<O>((resolve, reject) => {
      calls.push({ input, resolve, reject })
    })
  return { fn, calls }
}
