export { type BackoffOptions, backoffDelay } from './backoff.ts'
export {
  AuthApi,
  Client,
  type ClientOptions,
  CuesApi,
  DEFAULT_BASE_URL,
  EventsApi,
  ExecutionsApi,
  LeasesApi,
  QueuesApi,
  type RequestOptions,
  TenantsApi,
  WorkersApi,
} from './client.ts'
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
