import type {
  AttemptRecord,
  ClaimedExecution,
  ExecutionStatus,
  ExecutionSummary,
  LeaseRecord,
  OutcomeEvidence,
  WorkerRecord,
} from '@cuekit/protocol'
import { AttemptEnd, LIMITS, ReportedWith } from '@cuekit/protocol'
import { SEP } from './keys.ts'
import type { Reply } from './scripts.ts'

/** Flat [field, value, ...] from HGETALL into an object. */
export function fieldsOf(flat: Reply | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!Array.isArray(flat)) return out
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

export function iso(ms: number | string): string {
  return new Date(Number(ms)).toISOString()
}

export function isoOrNull(ms: string | undefined): string | null {
  return ms === undefined || ms === '' ? null : iso(ms)
}

function str(v: Reply[number] | undefined): string {
  return v === undefined ? '' : String(v)
}

export function int(v: Reply[number] | undefined, fallback = 0): number {
  const s = str(v)
  return s === '' ? fallback : Number(s)
}

function parseJson(json: string): unknown {
  return json === '' ? null : JSON.parse(json)
}

export function parseBackoff(csv: string | undefined, fallback: readonly number[]): number[] {
  return csv ? csv.split(',').map(Number) : [...fallback]
}

/** An execution hash (see _lib.lua for the field names) as the API's summary. */
export function toSummary(
  id: string,
  h: Record<string, string>,
  payloadJson: string,
  now: number,
  outcomeJson: string,
  defaultBackoff: readonly number[],
): ExecutionSummary {
  const status = h.s as ExecutionStatus
  const leased = status === 'delivering' && h.x !== undefined
  return {
    execution_id: id,
    id,
    task: h.t ?? 'default',
    payload: parseJson(payloadJson),
    status,
    attempt: int(h.a),
    max_attempts: int(h.m, LIMITS.defaultMaxAttempts),
    priority: int(h.pr),
    backoff_seconds: parseBackoff(h.bo, defaultBackoff),
    cue_id: h.cue ?? null,
    cue_name: h.cn ?? null,
    scheduled_for: iso(h.sf ?? h.c ?? now),
    created_at: iso(h.c ?? now),
    updated_at: iso(h.u ?? h.c ?? now),
    finished_at: isoOrNull(h.f),
    next_attempt_at: status === 'scheduled' || status === 'retrying' ? isoOrNull(h.due) : null,
    lease: leased
      ? {
          worker_id: h.w ?? '',
          epoch: int(h.ep),
          claimed_at: iso(h.ca ?? now),
          expires_at: iso(h.x ?? now),
          remaining_ms: int(h.x) - now,
          lease_seconds: int(h.lms) / 1000,
          heartbeats: int(h.hb),
          last_heartbeat_at: isoOrNull(h.lh),
        }
      : null,
    cancel_requested: h.cx === '1',
    replayed_from: h.rf ?? null,
    triggered_by: (h.tb ?? (h.rf ? 'replay' : null)) as ExecutionSummary['triggered_by'],
    idempotency_key: h.ik ?? null,
    last_error: h.le ?? null,
    failure_reason: h.fr ?? null,
    outcome: outcomeJson === '' ? reportedOutcome(h) : (JSON.parse(outcomeJson) as OutcomeEvidence),
  }
}

/**
 * A report that carried no evidence still is an outcome: it is read back from the report the
 * execution remembers (`rp`, kind 's' or 'f') rather than stored twice.
 */
function reportedOutcome(h: Record<string, string>): OutcomeEvidence | null {
  const kind = h.rp?.[0]
  if (kind !== 's' && kind !== 'f') return null
  return {
    success: kind === 's',
    ...(kind === 'f' && h.le ? { error: h.le } : {}),
    recorded_at: iso(h.f ?? h.u ?? 0),
  } as OutcomeEvidence
}

export function toAttempt(entry: string): AttemptRecord {
  const [attempt, epoch, worker, claimed, ended, how, error, rw] = entry.split(SEP)
  const outcome = AttemptEnd.safeParse(how)
  const reported = ReportedWith.safeParse(rw)
  return {
    attempt: Number(attempt),
    epoch: Number(epoch),
    worker_id: worker ?? '',
    claimed_at: iso(claimed ?? 0),
    ended_at: isoOrNull(ended),
    outcome: outcome.success ? outcome.data : null,
    error: error ? error : null,
    reported_with: reported.success ? reported.data : null,
  }
}

/** The 12 claim fields of claim.lua / claim_id.lua, starting at `at`. */
export function toClaimed(r: Reply, at: number): ClaimedExecution {
  const id = str(r[at])
  const leaseMs = int(r[at + 8])
  return {
    execution_id: id,
    id,
    task: str(r[at + 1]),
    payload: parseJson(str(r[at + 2])),
    scheduled_for: iso(str(r[at + 3])),
    attempt: int(r[at + 4]),
    max_attempts: int(r[at + 5]),
    cue_id: str(r[at + 10]) || null,
    cue_name: str(r[at + 11]) || null,
    lease: {
      token: str(r[at + 9]),
      epoch: int(r[at + 6]),
      expires_at: iso(str(r[at + 7])),
      lease_seconds: leaseMs / 1000,
    },
  }
}

/** The 11 lease fields of leases.lua, starting at `at`. */
export function toLease(r: Reply, at: number, now: number): LeaseRecord {
  const expires = int(r[at + 6])
  return {
    execution_id: str(r[at]),
    task: str(r[at + 1]),
    worker_id: str(r[at + 2]),
    attempt: int(r[at + 3]),
    epoch: int(r[at + 4]),
    claimed_at: iso(str(r[at + 5])),
    expires_at: iso(expires),
    remaining_ms: expires - now,
    lease_seconds: int(r[at + 7]) / 1000,
    heartbeats: int(r[at + 8]),
    last_heartbeat_at: isoOrNull(str(r[at + 9])),
    cancel_requested: str(r[at + 10]) === '1',
  }
}

export function workerState(lastSeenMs: number, now: number): WorkerRecord['state'] {
  const age = (now - lastSeenMs) / 1000
  if (age < LIMITS.workerActiveSeconds) return 'active'
  if (age < LIMITS.workerStaleSeconds) return 'stale'
  return 'dead'
}
