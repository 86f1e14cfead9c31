export { type EngineCore, type EngineOptions, StorageFormatError, type TenantRef } from './core.ts'
export { type CueConfig, type CueOptions, Cues, type FireInput, newCueId, type StoredCue } from './cues.ts'
export { Engine } from './engine.ts'
export { EngineError } from './errors.ts'
export { type ClaimableNotice, decodeChange, decodeNotice, type ExecutionChange } from './events.ts'
export type {
  ClaimOptions,
  EnqueueItem,
  EnqueueResult,
  LeaseAuth,
  ReportInput,
  ReportResult,
} from './executions.ts'
export { fnv1a, newExecutionId, partitionOf } from './ids.ts'
export { Keys, type PartitionRef } from './keys.ts'
export { RATE_FIELDS, SEP } from './layouts/index.ts'
export {
  Maintenance,
  type MaintenanceOptions,
  type MaintenanceResult,
  type PassSummary,
} from './maintenance.ts'
export type { MonthUsage } from './outcomes.ts'
export type { LeaseQuery, ListQuery, RateMinute } from './reads.ts'
export {
  checkTimezone,
  compileCron,
  DEFAULT_MISSED_GRACE_MS,
  firstFire,
  nextTick,
  planTicks,
  type ScheduleSpec,
  type TickPlan,
} from './schedule.ts'
export {
  DuplicateEmailError,
  hashApiKey,
  newApiKey,
  newWebhookSecret,
  type TenantRecord,
  type TenantSettings,
  Tenants,
} from './tenants.ts'
