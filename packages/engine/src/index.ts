export { type CueConfig, type CueOptions, Cues, type FireInput, newCueId, type StoredCue } from './cues.ts'
export {
  type ClaimOptions,
  Engine,
  type EngineOptions,
  type EnqueueItem,
  type EnqueueResult,
  type LeaseAuth,
  type LeaseQuery,
  type ListQuery,
  type MaintenanceResult,
  type ReportInput,
  type TenantRef,
} from './engine.ts'
export { EngineError } from './errors.ts'
export { fnv1a, newExecutionId, partitionOf } from './ids.ts'
export { Keys, type PartitionRef, SEP } from './keys.ts'
export { Maintenance, type MaintenanceOptions, type PassSummary } from './maintenance.ts'
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
