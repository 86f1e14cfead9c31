import { createHash } from 'node:crypto'
import type {
  Alert,
  CueStats,
  EvidenceRequest,
  EvidenceResponse,
  ExecutionOutcome,
  ListAlertsQuery,
  ListAlertsResponse,
  LiveClaimResponse,
  OutcomeResponse,
  OutcomeState,
  VerificationPendingResponse,
  VerifyResponse,
} from '@cuekit/protocol'
import { AlertType, OUTCOME_LIMITS, pythonJsonDumps } from '@cuekit/protocol'
import type { EngineCore, TenantRef } from './core.ts'
import { head, int, iso, isoOrNull, rows, StoredExecution } from './decode.ts'
import { check, EngineError } from './errors.ts'
import {
  type Executions,
  evidenceFlags,
  metadataTooLarge,
  outcomeJson,
  type ReportInput,
} from './executions.ts'
import { partitionOf } from './ids.ts'
import {
  ALERT,
  ALERT_ARGS,
  ALERT_REPLY,
  ALERTS_ARGS,
  ALERTS_REPLY,
  CUE_DAY,
  CUE_STATS_ARGS,
  CUE_STATS_REPLY,
  EVIDENCE_ARGS,
  EVIDENCE_REPLY,
  GET_ARGS,
  GET_REPLY,
  LIVE_CLAIM_ARGS,
  LIVE_CLAIM_REPLY,
  OUTCOME_ARGS,
  OUTCOME_REPLY,
  SEP,
  USAGE_ARGS,
  USAGE_DAY,
  USAGE_REPLY,
  VERIFICATION_PENDING_ARGS,
  VERIFY_ARGS,
  VERIFY_REPLY,
} from './layouts/index.ts'
import { args, type Reply } from './scripts.ts'

/** A tenant's activity this calendar month (UTC), for `GET /v1/usage`. */
export interface MonthUsage {
  start: string
  end: string
  daysRemaining: number
  /** Days of the month so far (today included). */
  daysSoFar: number
  daysInMonth: number
  cues: number
  activeCues: number
  executions: number
  outcomes: number
  outcomeSuccesses: number
  outcomeFailures: number
}

const DAY_MS = 86_400_000
const WRITE_TRIES = 5

/**
 * Outcomes (docs/outcomes.md): a webhook handler's report recorded beside its delivery, evidence,
 * verification, alerts, and the counts behind cue stats and usage. The state machine is in the
 * scripts (outcome, evidence, verify, verification_pending, deadlines; lib/7-outcome.lua); JSON
 * is built here, since the scripts carry none.
 */
export class Outcomes {
  constructor(
    private readonly core: EngineCore,
    private readonly executions: Executions,
  ) {}

  /**
   * CueAPI's `POST /v1/executions/{id}/outcome`. A webhook execution records its handler's outcome
   * beside the delivery (write-once, no lease); a worker execution's outcome is its lease report.
   */
  async report(tenant: TenantRef, executionId: string, input: ReportInput): Promise<OutcomeResponse> {
    if (metadataTooLarge(input.evidence?.metadata)) throw new EngineError('metadata_too_large')
    const json =
      outcomeJson(input) ||
      JSON.stringify({
        success: input.success,
        ...(input.error ? { error: input.error } : {}),
      })
    const ref = this.core.refOf(tenant, executionId)
    const reply = await this.core.scripts.partition(
      'outcome',
      ref,
      args(OUTCOME_ARGS, {
        id: executionId,
        success: input.success ? '1' : '0',
        outcome: json,
        evidence: evidenceFlags(input.evidence),
        fingerprint: reportFingerprint(input),
        error: input.error ?? '',
      }),
    )
    if (reply[0] === 'lease_report') return this.executions.report(tenant, executionId, input)
    check(reply)
    const h = head(reply, OUTCOME_REPLY)
    this.core.due(ref, h.str('next_due'))
    return {
      execution_id: executionId,
      status: h.str('status') as OutcomeResponse['status'],
      attempt: h.int('attempt'),
      outcome_recorded: true,
      next_attempt_at: null,
      outcome_state: (h.str('outcome_state') || null) as OutcomeState | null,
      reason: null,
    }
  }

  /** Adds or replaces evidence of a recorded outcome and re-runs the cue's verification policy. */
  async evidence(tenant: TenantRef, executionId: string, patch: EvidenceRequest): Promise<EvidenceResponse> {
    const reply = await this.rewrite(tenant, executionId, 'evidence', (outcome) => {
      const { metadata, ...fields } = patch
      for (const [k, v] of Object.entries(fields))
        if (v !== undefined && v !== null) Object.assign(outcome, { [k]: v })
      if (metadata) outcome.metadata = { ...(outcome.metadata ?? {}), ...metadata }
      if (metadataTooLarge(outcome.metadata)) throw new EngineError('metadata_too_large')
      return { evidence: evidenceFlags(outcome) }
    })
    return {
      execution_id: executionId,
      outcome_state: (head(reply, EVIDENCE_REPLY).str('outcome_state') || null) as OutcomeState | null,
      evidence_updated: true,
    }
  }

  /** Approves (`valid`) or rejects a reported success; a rejection's reason joins the summary. */
  async verify(
    tenant: TenantRef,
    executionId: string,
    input: { valid: boolean; reason?: string | null | undefined },
  ): Promise<VerifyResponse> {
    const reason = input.reason ?? null
    const reply = await this.rewrite(tenant, executionId, 'verify', (outcome) => {
      if (reason) {
        const summary = outcome.summary ? `${outcome.summary} ${reason}` : reason
        outcome.summary = summary.slice(0, OUTCOME_LIMITS.summaryMaxLength)
      }
      return { valid: input.valid ? '1' : '0' }
    })
    return {
      execution_id: executionId,
      outcome_state: head(reply, VERIFY_REPLY).str('outcome_state') as OutcomeState,
      valid: input.valid,
      reason,
    }
  }

  async verificationPending(tenant: TenantRef, executionId: string): Promise<VerificationPendingResponse> {
    await this.core.run(
      'verification_pending',
      this.core.refOf(tenant, executionId),
      args(VERIFICATION_PENDING_ARGS, { id: executionId }),
    )
    return { execution_id: executionId, outcome_state: 'verification_pending' }
  }

  /**
   * CueAPI's live-claim: the first session token wins (stored as a digest), the same one again is
   * answered with the first time, another is `already_attested`.
   */
  async liveClaim(tenant: TenantRef, executionId: string, sessionToken: string): Promise<LiveClaimResponse> {
    const token = createHash('sha256').update(sessionToken).digest('base64url').slice(0, 22)
    const reply = await this.core.run(
      'live_claim',
      this.core.refOf(tenant, executionId),
      args(LIVE_CLAIM_ARGS, { id: executionId, token }),
    )
    return {
      attested: true,
      execution_id: executionId,
      live_claimed_at: iso(head(reply, LIVE_CLAIM_REPLY).str('live_claimed_at')),
    }
  }

  /**
   * Reads the outcome, changes its JSON with `change`, and writes it with the script `name` if
   * nothing changed the outcome meanwhile (else reads again).
   */
  private async rewrite(
    tenant: TenantRef,
    executionId: string,
    name: 'evidence' | 'verify',
    change: (outcome: ExecutionOutcome) => Record<string, string>,
  ): Promise<Reply> {
    const ref = this.core.refOf(tenant, executionId)
    for (let i = 0; i < WRITE_TRIES; i++) {
      const got = head(await this.core.run('get', ref, args(GET_ARGS, { id: executionId })), GET_REPLY)
      const r = new StoredExecution(got.str('record'))
      if (r.get('outcome_at') === '') throw new EngineError('no_outcome')
      const json = got.str('outcome')
      const outcome: ExecutionOutcome =
        json === ''
          ? { success: r.get('outcome_success') === '1', recorded_at: iso(r.get('outcome_at')) }
          : (JSON.parse(json) as ExecutionOutcome)
      const extra = change(outcome)
      const common = { id: executionId, outcome: JSON.stringify(outcome), version: r.get('outcome_version') }
      const argv =
        name === 'evidence'
          ? args(EVIDENCE_ARGS, { ...common, evidence: extra.evidence ?? '' })
          : args(VERIFY_ARGS, { ...common, valid: extra.valid ?? '1' })
      const reply = await this.core.scripts.partition(name, ref, argv)
      if (reply[0] === 'outcome_changed') continue
      check(reply)
      return reply
    }
    throw new EngineError('invalid_state', 'The outcome kept changing while this request applied; retry.')
  }

  // ------------------------------------------------------------------ alerts

  async alerts(tenant: TenantRef, query: ListAlertsQuery): Promise<ListAlertsResponse> {
    let total = 0
    const all: Alert[] = []
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const reply = await this.core.run(
          'alerts',
          ref,
          args(ALERTS_ARGS, {
            alert_type: query.alert_type ?? '',
            cue_id: query.cue_id ?? '',
            acknowledged: query.acknowledged === undefined ? '' : query.acknowledged ? '1' : '0',
            since: query.since === undefined ? '' : Date.parse(query.since),
            limit: query.offset + query.limit,
          }),
        )
        const h = head(reply, ALERTS_REPLY)
        total += h.int('total')
        for (const row of rows(reply, ALERTS_REPLY, ALERT, h.int('count'))) {
          all.push(toAlert(ALERT.fields.map((f) => row.str(f))))
        }
      }),
    )
    all.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id.localeCompare(a.id))
    return {
      alerts: all.slice(query.offset, query.offset + query.limit),
      total,
      limit: query.limit,
      offset: query.offset,
    }
  }

  async alert(tenant: TenantRef, alertId: string): Promise<Alert> {
    return this.alertBy('alert', tenant, alertId)
  }

  /** Acknowledges an alert (again: the first acknowledgement stands). */
  async acknowledge(tenant: TenantRef, alertId: string): Promise<Alert> {
    return this.alertBy('alert_ack', tenant, alertId)
  }

  private async alertBy(name: 'alert' | 'alert_ack', tenant: TenantRef, alertId: string): Promise<Alert> {
    const ref = this.core.ref(tenant, partitionOf(alertId, tenant.partitions))
    const reply = await this.core.run(name, ref, args(ALERT_ARGS, { id: alertId }))
    return toAlert(head(reply, ALERT_REPLY).str('alert').split(SEP))
  }

  // ------------------------------------------------------------------ stats, usage

  /** A cue's last 7 UTC days (its executions live in partition 0 with it). */
  async cueStats(tenant: TenantRef, cueId: string): Promise<CueStats> {
    const days = 7
    const today = Math.floor(this.core.redisNow() / DAY_MS)
    const reply = await this.core.run(
      'cue_stats',
      this.core.ref(tenant, 0),
      args(CUE_STATS_ARGS, { cue_id: cueId, first_day: today - days + 1, days }),
    )
    const sum = { executions: 0, successes: 0, failures: 0, misses: 0 }
    for (const row of rows(reply, CUE_STATS_REPLY, CUE_DAY, days)) {
      for (const f of CUE_DAY.fields) sum[f] += row.int(f)
    }
    const durations = head(reply, CUE_STATS_REPLY)
      .list('durations')
      .map((d) => int(d))
      .sort((a, b) => a - b)
    const decided = sum.successes + sum.failures
    return {
      period_days: days,
      ...sum,
      success_rate: decided === 0 ? null : Math.round((sum.successes / decided) * 10_000) / 10_000,
      p50_duration_ms: durations.length === 0 ? null : durations[Math.floor((durations.length - 1) / 2)]!,
    }
  }

  /** This calendar month (UTC) so far, summed over the tenant's partitions. */
  async usage(tenant: TenantRef): Promise<MonthUsage> {
    const now = new Date(this.core.redisNow())
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)
    const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)
    const firstDay = start / DAY_MS
    const daysSoFar = Math.floor(now.getTime() / DAY_MS) - firstDay + 1
    const usage: MonthUsage = {
      start: iso(start),
      end: iso(end),
      daysRemaining: Math.max(0, Math.ceil((end - now.getTime()) / DAY_MS)),
      daysSoFar,
      daysInMonth: (end - start) / DAY_MS,
      cues: 0,
      activeCues: 0,
      executions: 0,
      outcomes: 0,
      outcomeSuccesses: 0,
      outcomeFailures: 0,
    }
    await Promise.all(
      this.core.partitions(tenant).map(async (ref) => {
        const reply = await this.core.run(
          'usage',
          ref,
          args(USAGE_ARGS, { first_day: firstDay, days: daysSoFar }),
        )
        const h = head(reply, USAGE_REPLY)
        usage.cues += h.int('cues')
        usage.activeCues += h.int('active_cues')
        for (const row of rows(reply, USAGE_REPLY, USAGE_DAY, daysSoFar)) {
          usage.executions += row.int('executions')
          usage.outcomes += row.int('outcomes')
          usage.outcomeSuccesses += row.int('outcome_successes')
          usage.outcomeFailures += row.int('outcome_failures')
        }
      }),
    )
    return usage
  }
}

/** Tells a repeated report (the same fields) from a different one, for write-once outcomes. */
function reportFingerprint(input: ReportInput): string {
  const report = { success: input.success, error: input.error ?? null, ...(input.evidence ?? {}) }
  return createHash('sha256').update(pythonJsonDumps(report)).digest('base64url').slice(0, 22)
}

function toAlert(a: string[]): Alert {
  const at = (name: (typeof ALERT.fields)[number]) => a[ALERT.at[name]] ?? ''
  return {
    id: at('id'),
    alert_type: AlertType.parse(at('alert_type')),
    severity: at('severity') as Alert['severity'],
    message: at('message'),
    cue_id: at('cue_id') || null,
    execution_id: at('execution_id') || null,
    metadata: at('metadata') ? (JSON.parse(at('metadata')) as Alert['metadata']) : {},
    acknowledged: at('acknowledged_at') !== '',
    acknowledged_at: isoOrNull(at('acknowledged_at')),
    created_at: iso(at('created_at')),
  }
}
