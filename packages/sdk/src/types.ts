import type {
  BatchHeartbeatRequest,
  BatchOutcomeRequest,
  ClaimByIdRequest,
  ClaimRequest,
  EnqueueRequest,
  ExecutionStatus,
  HeartbeatRequest,
  OutcomeRequest,
  ReleaseRequest,
  WorkerHeartbeatRequest,
} from '@cuekit/protocol'
import type { z } from 'zod'

// Request types are the schemas' *input* side: fields with server defaults stay optional.

/**
 * The body of `POST /v1/executions`.
 *
 * @example
 * ```ts
 * const input: EnqueueInput = { task: 'send-email', payload: { to: 'a@b.c' }, delay_seconds: 60 }
 * ```
 */
export type EnqueueInput = z.input<typeof EnqueueRequest>

/**
 * The body of `POST /v1/executions/claim`.
 *
 * @example
 * ```ts
 * const input: ClaimInput = { worker_id: 'w1', task: ['resize', 'thumbnail'], max: 8, wait_seconds: 20 }
 * ```
 */
export type ClaimInput = z.input<typeof ClaimRequest>

/**
 * The body of `POST /v1/executions/{id}/claim`.
 *
 * @example
 * ```ts
 * const input: ClaimByIdInput = { worker_id: 'w1', lease_seconds: 60 }
 * ```
 */
export type ClaimByIdInput = z.input<typeof ClaimByIdRequest>

/**
 * The body of `POST /v1/executions/{id}/heartbeat`.
 *
 * @example
 * ```ts
 * const input: HeartbeatInput = { lease_token: e.lease.token, extend_seconds: 120 }
 * ```
 */
export type HeartbeatInput = z.input<typeof HeartbeatRequest>

/**
 * One item of `POST /v1/executions/heartbeats`.
 *
 * @example
 * ```ts
 * const item: BatchHeartbeatInput = { execution_id: e.execution_id, lease_token: e.lease.token }
 * ```
 */
export type BatchHeartbeatInput = z.input<typeof BatchHeartbeatRequest>['leases'][number]

/**
 * The body of `POST /v1/executions/{id}/outcome`.
 *
 * @example
 * ```ts
 * const input: OutcomeInput = { lease_token: e.lease.token, success: false, error: 'SMTP 451', retry: true }
 * ```
 */
export type OutcomeInput = z.input<typeof OutcomeRequest>

/**
 * One item of `POST /v1/executions/outcomes`.
 *
 * @example
 * ```ts
 * const item: BatchOutcomeInput = { execution_id: e.execution_id, lease_token: e.lease.token, success: true }
 * ```
 */
export type BatchOutcomeInput = z.input<typeof BatchOutcomeRequest>['outcomes'][number]

/**
 * The body of `POST /v1/executions/{id}/release`.
 *
 * @example
 * ```ts
 * const input: ReleaseInput = { lease_token: e.lease.token, delay_seconds: 30 }
 * ```
 */
export type ReleaseInput = z.input<typeof ReleaseRequest>

/**
 * The body of `POST /v1/worker/heartbeat`.
 *
 * @example
 * ```ts
 * const input: WorkerHeartbeatInput = { worker_id: 'w1', handlers: ['send-email'] }
 * ```
 */
export type WorkerHeartbeatInput = z.input<typeof WorkerHeartbeatRequest>

/**
 * The query of `GET /v1/executions`; `status__in` may be a list.
 *
 * @example
 * ```ts
 * const query: ListExecutionsInput = { status__in: ['failed', 'cancelled'], task: 'send-email', limit: 100 }
 * ```
 */
export interface ListExecutionsInput {
  status?: ExecutionStatus
  status__in?: ExecutionStatus[] | string
  cue_id?: string
  task?: string
  worker_id?: string
  limit?: number
  cursor?: string | undefined
}

/**
 * The query of `GET /v1/leases`.
 *
 * @example
 * ```ts
 * const query: ListLeasesInput = { worker_id: 'w1', expiring_within_seconds: 30 }
 * ```
 */
export interface ListLeasesInput {
  worker_id?: string
  task?: string
  expiring_within_seconds?: number
  limit?: number
}

/**
 * A cue's schedule: recurring (cron + IANA timezone) or once (`at`).
 *
 * @example
 * ```ts
 * const schedule: CueSchedule = { type: 'recurring', cron: '*\/5 * * * *', timezone: 'UTC' }
 * ```
 */
export interface CueSchedule {
  type: 'recurring' | 'once'
  cron?: string | null
  at?: string | null
  timezone?: string
}

/**
 * A cue record (CueAPI's shape).
 *
 * @example
 * ```ts
 * const cue: Cue = await client.cues.get('cue_abc')
 * console.log(cue.name, cue.status, cue.next_run)
 * ```
 */
export interface Cue {
  id: string
  name: string
  description: string | null
  status: 'active' | 'paused' | 'completed' | 'failed'
  transport: 'webhook' | 'worker'
  schedule: CueSchedule
  callback: { url: string | null; method: string; headers: Record<string, string> }
  payload: unknown
  retry: { max_attempts: number; backoff_minutes: number[] }
  catch_up?: unknown
  next_run: string | null
  last_run: string | null
  run_count: number
  fired_count: number
  created_at: string
  updated_at: string
  [field: string]: unknown
}

/**
 * The body of `POST /v1/cues` (CueAPI's fields; more pass through).
 *
 * @example
 * ```ts
 * const input: CreateCueInput = {
 *   name: 'ping',
 *   schedule: { type: 'once', at: '2030-01-01T00:00:00Z' },
 *   callback: { url: 'https://example.com/hook' },
 * }
 * ```
 */
export interface CreateCueInput {
  name: string
  description?: string
  schedule: CueSchedule
  transport?: 'webhook' | 'worker'
  callback?: { url?: string | null; method?: string; headers?: Record<string, string> }
  payload?: unknown
  retry?: { max_attempts?: number; backoff_minutes?: number[] }
  [field: string]: unknown
}

/**
 * The body of `PATCH /v1/cues/{id}`.
 *
 * @example
 * ```ts
 * const patch: UpdateCueInput = { description: 'weekly now', schedule: { type: 'recurring', cron: '0 9 * * 1' } }
 * ```
 */
export type UpdateCueInput = Partial<CreateCueInput>

/**
 * The query of `GET /v1/cues`.
 *
 * @example
 * ```ts
 * const query: ListCuesInput = { status: 'active', limit: 100, offset: 100 }
 * ```
 */
export interface ListCuesInput {
  status?: Cue['status']
  limit?: number
  offset?: number
}

/**
 * A page of `GET /v1/cues`.
 *
 * @example
 * ```ts
 * const { cues, total }: CueList = await client.cues.list()
 * ```
 */
export interface CueList {
  cues: Cue[]
  total: number
  limit: number
  offset: number
}
