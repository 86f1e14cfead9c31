export { type BackoffOptions, backoffDelay } from './backoff.ts'
export { EventsApi } from './client/events.ts'
export { ExecutionsApi } from './client/executions.ts'
export { AlertsApi } from './client/outcomes.ts'
export type { RequestOptions } from './client/request.ts'
export {
  AuthApi,
  CuesApi,
  LeasesApi,
  QueuesApi,
  StatsApi,
  TenantsApi,
  WorkersApi,
} from './client/resources.ts'
export { Client, type ClientOptions, DEFAULT_BASE_URL } from './client.ts'
export {
  BadRequestError,
  ClaimFailedError,
  type ClientErrorCode,
  ConflictError,
  ConnectionError,
  CuekitError,
  type CuekitErrorCode,
  type CuekitErrorInit,
  ExecutionCancelledError,
  errorFromBody,
  ForbiddenError,
  InvalidResponseError,
  isRetryable,
  LeaseLostError,
  NotFoundError,
  OutcomeAlreadyReportedError,
  PayloadTooLargeError,
  RateLimitError,
  ServerError,
  ServerUnavailableError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts'
export {
  DuplicateInProgressError,
  type IdempotencyStore,
  insertOnceSql,
  MemoryIdempotencyStore,
  type OnceOptions,
  type OnceResult,
  once,
  RedisIdempotencyStore,
  type RedisLike,
} from './idempotency.ts'
export type { InferPayload, PayloadSchema, SchemaIssue, SchemaResult } from './schema.ts'
export type * from './types.ts'
export { SDK_VERSION } from './version.ts'
export {
  checkWebhook,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookBody,
  type WebhookCheck,
  type WebhookHeaders,
} from './webhook.ts'
export type { ExecutionInfo, WorkerEvents } from './worker/events.ts'
export {
  defineHandler,
  type Evidence,
  type Handler,
  type HandlerContext,
  type HandlerFunction,
  NonRetryableError,
  RetryAfterError,
  type SchemaHandler,
  WorkerStoppingError,
} from './worker/handler.ts'
export { Worker, type WorkerOptions } from './worker.ts'
