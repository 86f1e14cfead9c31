import { z } from 'zod'
import { ExecutionId, TaskFilter, Timestamp, WorkerId } from './common.ts'
import { EXECUTION_STATUSES, WORKER_STATES } from './lifecycle.ts'
import { ExecutionStatus, WorkerState } from './status.ts'

// ---------------------------------------------------------------- health

/** `GET /health` and `GET /ready`. */
export const HealthResponse = z.object({ status: z.string() })
export type HealthResponse = z.infer<typeof HealthResponse>

// ---------------------------------------------------------------- workers

export const WorkerHeartbeatRequest = z.strictObject({
  worker_id: WorkerId,
  handlers: z.array(TaskFilter).max(200).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
})
export type WorkerHeartbeatRequest = z.infer<typeof WorkerHeartbeatRequest>

export const WorkerHeartbeatResponse = z.object({
  acknowledged: z.literal(true),
  worker_id: z.string(),
  last_seen_at: Timestamp,
  /** CueAPI's name for the same instant (its clients read it). */
  server_time: Timestamp,
})
export type WorkerHeartbeatResponse = z.infer<typeof WorkerHeartbeatResponse>

export const WorkerRecord = z.object({
  worker_id: z.string(),
  handlers: z.array(z.string()),
  last_seen_at: Timestamp,
  state: WorkerState,
  in_flight: z.number().int(),
  claimed: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  /** When a lease of this worker last expired unreported, and on which execution. */
  lost_at: Timestamp.nullable(),
  lost_execution_id: z.string().nullable(),
  /** CueAPI's names for the same facts, so CueAPI dashboards and SDKs read our list. */
  heartbeat_status: WorkerState.exclude(['lost']),
  last_heartbeat: Timestamp,
  seconds_since_heartbeat: z.number().int(),
})
export type WorkerRecord = z.infer<typeof WorkerRecord>

export const ListWorkersResponse = z.object({ workers: z.array(WorkerRecord) })
export type ListWorkersResponse = z.infer<typeof ListWorkersResponse>

// ---------------------------------------------------------------- leases

export const ListLeasesQuery = z.strictObject({
  worker_id: WorkerId.optional(),
  task: TaskFilter.optional(),
  expiring_within_seconds: z.coerce.number().min(0).max(43_200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})
export type ListLeasesQuery = z.infer<typeof ListLeasesQuery>

/** A live lease as ops see it; `remaining_ms` is negative for an expired lease not yet reaped. */
export const LeaseRecord = z.object({
  execution_id: ExecutionId,
  task: z.string(),
  worker_id: z.string(),
  attempt: z.number().int(),
  epoch: z.number().int(),
  claimed_at: Timestamp,
  expires_at: Timestamp,
  remaining_ms: z.number().int(),
  lease_seconds: z.number(),
  heartbeats: z.number().int(),
  last_heartbeat_at: Timestamp.nullable(),
  cancel_requested: z.boolean(),
})
export type LeaseRecord = z.infer<typeof LeaseRecord>

export const ListLeasesResponse = z.object({ leases: z.array(LeaseRecord), server_time: Timestamp })
export type ListLeasesResponse = z.infer<typeof ListLeasesResponse>

// ---------------------------------------------------------------- queues

/** A count for each of a list of states. */
const countEach = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<K, z.ZodNumber>

export const QueueCounts = z.object({
  task: z.string(),
  ...countEach(EXECUTION_STATUSES),
  oldest_pending_age_ms: z.number().int().nullable(),
})
export type QueueCounts = z.infer<typeof QueueCounts>

export const ListQueuesResponse = z.object({ queues: z.array(QueueCounts) })
export type ListQueuesResponse = z.infer<typeof ListQueuesResponse>

// ---------------------------------------------------------------- events

/** One state change, as published on the tenant's event stream (`GET /v1/events`). */
export const ExecutionEvent = z.object({
  type: z.literal('execution'),
  execution_id: ExecutionId,
  task: z.string(),
  status: ExecutionStatus,
  attempt: z.number().int(),
  worker_id: z.string().nullable(),
  at: Timestamp,
})
export type ExecutionEvent = z.infer<typeof ExecutionEvent>

// ---------------------------------------------------------------- stats

/**
 * `GET /v1/stats`: what an ops overview needs beyond /v1/queues, for the calling tenant.
 * `waiting_long_polls` and `reaper.last_pass_*` describe the server that answers (each server
 * runs its own waiters and reaper loop); everything else is the tenant's state in storage.
 */
export const StatsResponse = z.object({
  server_time: Timestamp,
  /** This tenant's claim requests waiting on this server. */
  waiting_long_polls: z.number().int(),
  reaper: z.object({
    /** When this server last reaped or promoted something, and how late it was then. */
    last_pass_at: Timestamp.nullable(),
    last_pass_lag_ms: z.number().int().nullable(),
    /** This tenant's leases that have expired but are not reaped yet (normally 0). */
    overdue_leases: z.number().int(),
    /** How long ago the most overdue of them expired: the tenant's reaper lag right now. */
    oldest_overdue_ms: z.number().int().nullable(),
  }),
  workers: z.object(countEach(WORKER_STATES)),
  /** Sums of the workers' counters since each was first seen (`GET /v1/stats/rates` has them per minute). */
  totals: z.object({ claimed: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
})
export type StatsResponse = z.infer<typeof StatsResponse>

// ---------------------------------------------------------------- activity per minute

/** The spans `GET /v1/stats/rates` answers for, in minutes (storage keeps each minute 25 h). */
export const RATE_WINDOW_MINUTES = { '15m': 15, '1h': 60, '24h': 1440 } as const

export const RatesQuery = z.strictObject({
  window: z.enum(['15m', '1h', '24h']).default('15m'),
})
export type RatesQuery = z.infer<typeof RatesQuery>

/** One minute of the tenant's activity: what happened in it, counted as it happened. */
export const RateMinute = z.object({
  /** The minute's start. */
  at: Timestamp,
  enqueues: z.number().int(),
  claims: z.number().int(),
  /** Success reports. */
  completions: z.number().int(),
  /** Failure reports (retried or final). */
  failures: z.number().int(),
  /** Expired leases re-queued by the reaper: a worker died or stalled holding them. */
  reclaims: z.number().int(),
})
export type RateMinute = z.infer<typeof RateMinute>

/**
 * `GET /v1/stats/rates`: the calling tenant's activity per minute over the window, oldest first,
 * the last minute being the current (unfinished) one. Kept in storage, not in a browser tab, so a
 * page opened during an incident sees what happened before it was opened.
 */
export const RatesResponse = z.object({
  window: RatesQuery.shape.window.unwrap(),
  server_time: Timestamp,
  minutes: z.array(RateMinute),
})
export type RatesResponse = z.infer<typeof RatesResponse>
