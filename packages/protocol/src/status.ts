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

/**
 * Liveness of a worker (docs/architecture.md#http-contract): `active` (seen in the last 180 s),
 * `stale` (seen in the last 900 s), `dead` (silent longer); `lost` when a lease of it expired
 * unreported and it has shown no sign of life since (a crashed or stuck worker), until it is dead.
 */
export const WorkerState = z.enum(['active', 'stale', 'dead', 'lost'])
export type WorkerState = z.infer<typeof WorkerState>
