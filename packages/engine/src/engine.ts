import type {
  Alert,
  ClaimableResponse,
  ClaimedExecution,
  CueStats,
  EvidenceRequest,
  EvidenceResponse,
  ExecutionRecord,
  HeartbeatResponse,
  ListAlertsQuery,
  ListAlertsResponse,
  ListExecutionsResponse,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  LiveClaimResponse,
  OutcomeResponse,
  TransitionResponse,
  VerificationPendingResponse,
  VerifyResponse,
} from '@cuekit/protocol'
import { EngineCore, type EngineOptions, type TenantRef } from './core.ts'
import { Cues } from './cues.ts'
import {
  type ClaimOptions,
  type EnqueueItem,
  type EnqueueResult,
  Executions,
  type LeaseAuth,
  type ReportInput,
  type ReportResult,
} from './executions.ts'
import type { Keys, PartitionRef } from './keys.ts'
import { type MaintenanceResult, maintainPartition, takeDue } from './maintenance.ts'
import { type MonthUsage, Outcomes } from './outcomes.ts'
import { type LeaseQuery, type ListQuery, type RateMinute, Reads } from './reads.ts'

/**
 * The lease engine, as the control plane uses it: one object over the parts that do the work —
 * transitions (executions.ts), reads (reads.ts), cues and their scheduler (cues.ts), and the
 * maintenance pass (maintenance.ts), all sharing one core (core.ts). Every state change is one
 * Lua script on one partition (lua/<transition>.lua); the same scripts run on Redis, Redis
 * Cluster and ioredis-mock.
 */
export class Engine {
  readonly core: EngineCore
  readonly executions: Executions
  readonly reads: Reads
  readonly outcomes: Outcomes
  /** Cue storage and the scheduler. */
  readonly cues: Cues

  constructor(options: EngineOptions) {
    this.core = new EngineCore(options)
    this.executions = new Executions(this.core)
    this.reads = new Reads(this.core)
    this.outcomes = new Outcomes(this.core, this.executions)
    this.cues = new Cues(this.core, this.reads, {
      webhookLeaseMarginSeconds: options.webhookLeaseMarginSeconds,
      missedGraceMs: options.missedTickGraceMs,
    })
  }

  /** Refuses data of another storage format (see EngineCore.checkStorage). */
  checkStorage(): Promise<void> {
    return this.core.checkStorage()
  }

  get keys(): Keys {
    return this.core.keys
  }

  get redis(): EngineCore['redis'] {
    return this.core.redis
  }

  get defaultLeaseSeconds(): number {
    return this.core.defaultLeaseSeconds
  }

  /** The store's clock now: Redis time as last seen (or the test clock). For schedules, never leases. */
  storeNow(): number {
    return this.core.storeNow()
  }

  /** Redis time now, estimated from the last offset seen (for timers, never for leases). */
  redisNow(): number {
    return this.core.redisNow()
  }

  // transitions

  enqueue(tenant: TenantRef, items: EnqueueItem[]): Promise<EnqueueResult[]> {
    return this.executions.enqueue(tenant, items)
  }

  claim(tenant: TenantRef, options: ClaimOptions): Promise<ClaimedExecution[]> {
    return this.executions.claim(tenant, options)
  }

  claimById(
    tenant: TenantRef,
    executionId: string,
    options: { worker_id: string; lease_seconds?: number | undefined },
  ): Promise<ClaimedExecution> {
    return this.executions.claimById(tenant, executionId, options)
  }

  extend(
    tenant: TenantRef,
    executionId: string,
    input: LeaseAuth & { extend_seconds?: number | undefined },
  ): Promise<HeartbeatResponse> {
    return this.executions.extend(tenant, executionId, input)
  }

  report(tenant: TenantRef, executionId: string, input: ReportInput): Promise<OutcomeResponse> {
    return this.executions.report(tenant, executionId, input)
  }

  reportMany(tenant: TenantRef, items: (ReportInput & { execution_id: string })[]): Promise<ReportResult[]> {
    return this.executions.reportMany(tenant, items)
  }

  release(
    tenant: TenantRef,
    executionId: string,
    input: LeaseAuth & { delay_seconds?: number | undefined },
  ): Promise<OutcomeResponse> {
    return this.executions.release(tenant, executionId, input)
  }

  releaseMany(
    tenant: TenantRef,
    items: (LeaseAuth & { execution_id: string; delay_seconds?: number | undefined })[],
  ): Promise<ReportResult[]> {
    return this.executions.releaseMany(tenant, items)
  }

  cancel(tenant: TenantRef, executionId: string): Promise<TransitionResponse> {
    return this.executions.cancel(tenant, executionId)
  }

  /** Runs a terminal execution again as a new execution; returns the new one. */
  async replay(tenant: TenantRef, executionId: string): Promise<ExecutionRecord> {
    return this.reads.get(tenant, await this.executions.replay(tenant, executionId))
  }

  // outcomes (docs/outcomes.md)

  /**
   * CueAPI's outcome report: a webhook execution's handler outcome is recorded beside its delivery
   * (write-once); a worker execution's is its lease report (as `report`).
   */
  reportOutcome(tenant: TenantRef, executionId: string, input: ReportInput): Promise<OutcomeResponse> {
    return this.outcomes.report(tenant, executionId, input)
  }

  evidence(tenant: TenantRef, executionId: string, patch: EvidenceRequest): Promise<EvidenceResponse> {
    return this.outcomes.evidence(tenant, executionId, patch)
  }

  verify(
    tenant: TenantRef,
    executionId: string,
    input: { valid: boolean; reason?: string | null | undefined },
  ): Promise<VerifyResponse> {
    return this.outcomes.verify(tenant, executionId, input)
  }

  verificationPending(tenant: TenantRef, executionId: string): Promise<VerificationPendingResponse> {
    return this.outcomes.verificationPending(tenant, executionId)
  }

  liveClaim(tenant: TenantRef, executionId: string, sessionToken: string): Promise<LiveClaimResponse> {
    return this.outcomes.liveClaim(tenant, executionId, sessionToken)
  }

  alerts(tenant: TenantRef, query: ListAlertsQuery): Promise<ListAlertsResponse> {
    return this.outcomes.alerts(tenant, query)
  }

  alert(tenant: TenantRef, alertId: string): Promise<Alert> {
    return this.outcomes.alert(tenant, alertId)
  }

  acknowledgeAlert(tenant: TenantRef, alertId: string): Promise<Alert> {
    return this.outcomes.acknowledge(tenant, alertId)
  }

  cueStats(tenant: TenantRef, cueId: string): Promise<CueStats> {
    return this.outcomes.cueStats(tenant, cueId)
  }

  usage(tenant: TenantRef): Promise<MonthUsage> {
    return this.outcomes.usage(tenant)
  }

  // reads

  get(tenant: TenantRef, executionId: string): Promise<ExecutionRecord> {
    return this.reads.get(tenant, executionId)
  }

  list(tenant: TenantRef, query: ListQuery): Promise<ListExecutionsResponse> {
    return this.reads.list(tenant, query)
  }

  leases(tenant: TenantRef, query: LeaseQuery): Promise<ListLeasesResponse> {
    return this.reads.leases(tenant, query)
  }

  queues(tenant: TenantRef): Promise<ListQueuesResponse> {
    return this.reads.queues(tenant)
  }

  claimable(tenant: TenantRef, task?: string, limit?: number): Promise<ClaimableResponse> {
    return this.reads.claimable(tenant, task, limit)
  }

  workerHeartbeat(tenant: TenantRef, workerId: string, handlers?: string[]): Promise<string> {
    return this.reads.workerHeartbeat(tenant, workerId, handlers)
  }

  workers(tenant: TenantRef, limit?: number): Promise<ListWorkersResponse> {
    return this.reads.workers(tenant, limit)
  }

  deleteWorker(tenant: TenantRef, workerId: string): Promise<boolean> {
    return this.reads.deleteWorker(tenant, workerId)
  }

  rates(tenant: TenantRef, minutes: number): Promise<{ now: string; minutes: RateMinute[] }> {
    return this.reads.rates(tenant, minutes)
  }

  streamEvents(tenant: TenantRef, ttlSeconds: number): Promise<void> {
    return this.reads.streamEvents(tenant, ttlSeconds)
  }

  // maintenance

  /** One maintenance pass over a partition (see maintenance.ts). */
  maintainPartition(ref: PartitionRef, batch?: number): Promise<MaintenanceResult> {
    return maintainPartition(this, ref, batch)
  }

  takeDue(limit: number, busyMs: number) {
    return takeDue(this.core, limit, busyMs)
  }

  partitions(tenant: TenantRef): PartitionRef[] {
    return this.core.partitions(tenant)
  }
}

export type { EngineOptions, TenantRef } from './core.ts'
