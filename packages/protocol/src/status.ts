import { z } from 'zod'

/** Execution statuses; CueAPI's names where CueAPI has one (docs/architecture.md#execution-statuses). */
export const ExecutionStatus = z.enum([
  'scheduled',
  'pending',
  'delivering',
  'retrying',
  'success',
  'failed',
  'cancelled',
])
export type ExecutionStatus = z.infer<typeof ExecutionStatus>

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['success', 'failed', 'cancelled']

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.includes(status)
}

/** How one attempt ended, as recorded in the attempt history. */
export const AttemptEnd = z.enum(['success', 'failure', 'lease_expired', 'released', 'cancelled'])
export type AttemptEnd = z.infer<typeof AttemptEnd>

/** Liveness of a worker from its last sign of life (docs/architecture.md#http-contract). */
export const WorkerState = z.enum(['active', 'stale', 'dead'])
export type WorkerState = z.infer<typeof WorkerState>
