import { z } from 'zod'
import { ATTEMPT_END, EXECUTION_STATUS, WORKER_STATE } from './lifecycle.ts'

// The schemas of the lists in lifecycle.ts, where each value says what moves it on.

/** Execution statuses; CueAPI's names where CueAPI has one (docs/architecture.md#execution-statuses). */
export const ExecutionStatus = z.enum(EXECUTION_STATUS)
export type ExecutionStatus = z.infer<typeof ExecutionStatus>

/** How one attempt ended, as recorded in the attempt history. */
export const AttemptEnd = z.enum(ATTEMPT_END)
export type AttemptEnd = z.infer<typeof AttemptEnd>

/** Liveness of a worker (docs/architecture.md#http-contract). */
export const WorkerState = z.enum(WORKER_STATE)
export type WorkerState = z.infer<typeof WorkerState>
