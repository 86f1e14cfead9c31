import type { z } from 'zod'
import {
  CreateCueRequest,
  CueDetail,
  CueRecord,
  FireCueRequest,
  FireCueResponse,
  GetCueQuery,
  ListCuesQuery,
  ListCuesResponse,
  PreviewCueRequest,
  PreviewCueResponse,
  RegenerateWebhookSecretResponse,
  UpdateCueRequest,
  WebhookSecretResponse,
} from './cues.ts'
import { ErrorBody } from './errors.ts'
import {
  BatchHeartbeatRequest,
  BatchHeartbeatResponse,
  BatchOutcomeRequest,
  BatchOutcomeResponse,
  BulkEnqueueRequest,
  BulkEnqueueResponse,
  ClaimableQuery,
  ClaimableResponse,
  ClaimByIdRequest,
  ClaimRequest,
  ClaimResponse,
  EnqueueRequest,
  ExecutionRecord,
  HeartbeatRequest,
  HeartbeatResponse,
  ListExecutionsQuery,
  ListExecutionsResponse,
  OutcomeRequest,
  OutcomeResponse,
  ReleaseRequest,
  TransitionResponse,
} from './executions.ts'
import {
  ExecutionEvent,
  HealthResponse,
  ListLeasesQuery,
  ListLeasesResponse,
  ListQueuesResponse,
  ListWorkersResponse,
  RatesQuery,
  RatesResponse,
  StatsResponse,
  WorkerHeartbeatRequest,
  WorkerHeartbeatResponse,
} from './ops.ts'
// The outcome half's schemas, by namespace: the table stays one file under the size limit.
import * as O from './outcomes.ts'
import type { HttpRoute } from './route-types.ts'
import {
  AlertWebhookSecretResponse,
  CreateTenantRequest,
  CreateTenantResponse,
  MeResponse,
  RegenerateAlertWebhookSecretResponse,
  RegenerateKeyResponse,
  RegisterRequest,
  RegisterResponse,
  UpdateMeRequest,
} from './tenants.ts'

/**
 * The HTTP API as one table: every route the server serves, with what it reads and answers. The
 * server registers each route from its entry (OpenAPI description, validation, auth: only the
 * handler is written in the server) and the SDK client builds its requests and parses its answers
 * from the same entries, so a route cannot exist on one side only (apps/server/test/route-table.test.ts).
 */

const ok = <S extends z.ZodType>(description: string, schema: S) => ({ description, schema })
const err = (description: string) => ({ description, schema: ErrorBody })

const executions = ['executions']
const cues = ['cues']
const auth = ['auth']
const workers = ['workers']
const outcomes = ['outcomes']

const workerHeartbeat = {
  method: 'post',
  summary: "A worker's own heartbeat, with the handlers it serves (CueAPI)",
  tags: workers,
  auth: 'tenant',
  body: WorkerHeartbeatRequest,
  responses: { 200: ok('Seen', WorkerHeartbeatResponse) },
} as const

const regenerateWebhookSecret = {
  method: 'post',
  summary: 'Replace the webhook signing secret; the previous one stops verifying at once',
  tags: auth,
  auth: 'tenant',
  responses: { 200: ok('The new secret', RegenerateWebhookSecretResponse) },
} as const

export const ROUTES = {
  // ------------------------------------------------------------------------------------- ops
  health: {
    method: 'get',
    path: '/health',
    summary: 'The process is up',
    tags: ['ops'],
    auth: 'none',
    responses: { 200: ok('Up', HealthResponse) },
  },
  ready: {
    method: 'get',
    path: '/ready',
    summary: 'Storage is reachable',
    tags: ['ops'],
    auth: 'none',
    responses: { 200: ok('Ready', HealthResponse), 503: err('Storage unreachable') },
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (bearer CUEKIT_METRICS_TOKEN when the server sets one)',
    tags: ['ops'],
    auth: 'none',
    responses: {
      200: { description: 'text/plain; version=0.0.4' },
      401: err('The metrics token is missing or wrong'),
    },
  },

  // --------------------------------------------------------------------------------- account
  createTenant: {
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant and its first API key (admin key)',
    tags: ['tenants'],
    auth: 'admin',
    body: CreateTenantRequest,
    responses: { 201: ok('Created', CreateTenantResponse), 403: err('Not the admin key') },
  },
  register: {
    method: 'post',
    path: '/v1/auth/register',
    summary: 'Register with an email and get an API key (CueAPI; open registration only)',
    tags: auth,
    auth: 'none',
    body: RegisterRequest,
    responses: {
      201: ok('Registered', RegisterResponse),
      403: err('Registration is closed'),
      409: err('Email already registered'),
    },
  },
  me: {
    method: 'get',
    path: '/v1/auth/me',
    summary: 'The tenant of this API key, with its settings',
    tags: auth,
    auth: 'tenant',
    responses: { 200: ok('The tenant', MeResponse) },
  },
  updateMe: {
    method: 'patch',
    path: '/v1/auth/me',
    summary: "Change this tenant's settings (fields left out keep their value)",
    tags: auth,
    auth: 'tenant',
    body: UpdateMeRequest,
    responses: {
      200: ok('The tenant', MeResponse),
      400: err('invalid_alert_webhook_url'),
      422: err('Invalid'),
    },
  },
  regenerateKey: {
    method: 'post',
    path: '/v1/auth/key/regenerate',
    summary: 'Issue a new API key and revoke this one (401 if this key was already replaced)',
    tags: auth,
    auth: 'tenant',
    responses: { 200: ok('The new key', RegenerateKeyResponse) },
  },
  webhookSecret: {
    method: 'get',
    path: '/v1/auth/webhook-secret',
    summary: "The tenant's webhook signing secret (created on first use)",
    tags: auth,
    auth: 'tenant',
    responses: { 200: ok('The secret', WebhookSecretResponse) },
  },
  regenerateWebhookSecret: { ...regenerateWebhookSecret, path: '/v1/auth/webhook-secret/regenerate' },
  /** The bare path: one hosted CueAPI page documents it as "rotate". */
  rotateWebhookSecret: { ...regenerateWebhookSecret, path: '/v1/auth/webhook-secret' },
  alertWebhookSecret: {
    method: 'get',
    path: '/v1/auth/alert-webhook-secret',
    summary: 'The secret alert webhooks are signed with (64 hex, created on first use; CueAPI)',
    tags: auth,
    auth: 'tenant',
    responses: { 200: ok('The secret', AlertWebhookSecretResponse) },
  },
  regenerateAlertWebhookSecret: {
    method: 'post',
    path: '/v1/auth/alert-webhook-secret/regenerate',
    summary: 'Replace the alert webhook secret (header X-Confirm-Destructive: true; CueAPI)',
    tags: auth,
    auth: 'tenant',
    responses: {
      200: ok(
        'The new secret; the previous one stops verifying at once',
        RegenerateAlertWebhookSecretResponse,
      ),
      400: err('confirmation_required: X-Confirm-Destructive: true is missing'),
    },
  },
  usage: {
    method: 'get',
    path: '/v1/usage',
    summary: "This month's cues, executions and outcomes, in CueAPI's shape (plan self-hosted, no limits)",
    tags: auth,
    auth: 'tenant',
    responses: { 200: ok('Usage', O.UsageResponse) },
  },

  // ------------------------------------------------------------------------------ executions
  enqueue: {
    method: 'post',
    path: '/v1/executions',
    summary:
      'Enqueue an execution (Idempotency-Key: the same key and body within 24 h return the first execution)',
    tags: executions,
    auth: 'tenant',
    body: EnqueueRequest,
    responses: {
      201: ok('Created', ExecutionRecord),
      200: ok('An execution with this idempotency key already exists', ExecutionRecord),
      422: err('Invalid, or idempotency_key_reused: the key was used with a different body'),
    },
  },
  enqueueBulk: {
    method: 'post',
    path: '/v1/executions/bulk',
    summary: 'Enqueue up to 1,000 executions in one call',
    tags: executions,
    auth: 'tenant',
    body: BulkEnqueueRequest,
    responses: { 201: ok('Created', BulkEnqueueResponse), 422: err('Invalid') },
  },
  claim: {
    method: 'post',
    path: '/v1/executions/claim',
    summary: 'Claim the next executions (long-poll with wait_seconds)',
    tags: executions,
    auth: 'tenant',
    body: ClaimRequest,
    responses: { 200: ok('Claimed executions, or claimed: false', ClaimResponse), 422: err('Invalid') },
  },
  claimable: {
    method: 'get',
    path: '/v1/executions/claimable',
    summary: 'Pending executions (informational; filter before limit, at most 50)',
    tags: executions,
    auth: 'tenant',
    query: ClaimableQuery,
    responses: { 200: ok('Claimable executions', ClaimableResponse) },
  },
  heartbeats: {
    method: 'post',
    path: '/v1/executions/heartbeats',
    summary: 'Extend many leases in one request (each item succeeds or fails on its own)',
    tags: executions,
    auth: 'tenant',
    body: BatchHeartbeatRequest,
    responses: { 200: ok('Per-item results', BatchHeartbeatResponse) },
  },
  reportOutcomes: {
    method: 'post',
    path: '/v1/executions/outcomes',
    summary: 'Report many outcomes in one request (each item succeeds or fails on its own)',
    tags: executions,
    auth: 'tenant',
    body: BatchOutcomeRequest,
    responses: { 200: ok('Per-item results', BatchOutcomeResponse) },
  },
  listExecutions: {
    method: 'get',
    path: '/v1/executions',
    summary: 'List executions, newest first (cursor pagination)',
    tags: executions,
    auth: 'tenant',
    query: ListExecutionsQuery,
    responses: { 200: ok('A page', ListExecutionsResponse), 422: err('Invalid') },
  },
  getExecution: {
    method: 'get',
    path: '/v1/executions/{id}',
    summary: 'An execution with its current lease (no token) and attempt history',
    tags: executions,
    auth: 'tenant',
    responses: { 200: ok('The execution', ExecutionRecord), 404: err('Not found') },
  },
  claimById: {
    method: 'post',
    path: '/v1/executions/{id}/claim',
    summary: 'Claim one execution by ID (CueAPI)',
    tags: executions,
    auth: 'tenant',
    body: ClaimByIdRequest,
    responses: { 200: ok('Claimed', ClaimResponse), 409: err('Not claimable') },
  },
  heartbeat: {
    method: 'post',
    path: '/v1/executions/{id}/heartbeat',
    summary: 'Extend a lease (X-Worker-Id identifies CueAPI workers that send no token)',
    tags: executions,
    auth: 'tenant',
    body: HeartbeatRequest,
    responses: {
      200: ok('Extended', HeartbeatResponse),
      403: err('Another worker holds the lease'),
      409: err('lease_lost, execution_not_claiming or execution_cancelled'),
    },
  },
  reportOutcome: {
    method: 'post',
    path: '/v1/executions/{id}/outcome',
    summary: 'Report the outcome (idempotent per lease)',
    tags: executions,
    auth: 'tenant',
    body: OutcomeRequest,
    responses: {
      200: ok('Recorded', OutcomeResponse),
      409: err('lease_lost or outcome_already_reported'),
    },
  },
  release: {
    method: 'post',
    path: '/v1/executions/{id}/release',
    summary: 'Give the execution back (nack) without consuming an attempt',
    tags: executions,
    auth: 'tenant',
    body: ReleaseRequest,
    responses: { 200: ok('Released', OutcomeResponse), 409: err('lease_lost') },
  },
  cancel: {
    method: 'post',
    path: '/v1/executions/{id}/cancel',
    summary: 'Cancel; a delivering execution gets a cancel request its worker sees on the next heartbeat',
    tags: executions,
    auth: 'tenant',
    responses: { 200: ok('Cancelled or cancel requested', TransitionResponse), 409: err('Finished') },
  },
  evidence: {
    method: 'patch',
    path: '/v1/executions/{id}/evidence',
    summary: "Add or replace a recorded outcome's evidence and re-run the cue's verification policy",
    tags: outcomes,
    auth: 'tenant',
    body: O.EvidenceRequest,
    responses: {
      200: ok('Updated', O.EvidenceResponse),
      404: err('execution_not_found'),
      409: err('no_outcome: no outcome was reported yet'),
      422: err('Invalid'),
    },
  },
  verify: {
    method: 'post',
    path: '/v1/executions/{id}/verify',
    summary: 'Approve (valid, the default) or reject a reported outcome',
    tags: outcomes,
    auth: 'tenant',
    body: O.VerifyRequest,
    responses: {
      200: ok('Verified or rejected', O.VerifyResponse),
      404: err('execution_not_found'),
      409: err('no_outcome, or invalid_state: the outcome is not awaiting verification'),
      422: err('Invalid'),
    },
  },
  verificationPending: {
    method: 'post',
    path: '/v1/executions/{id}/verification-pending',
    summary: 'Mark a reported success as awaiting verification',
    tags: outcomes,
    auth: 'tenant',
    responses: {
      200: ok('Pending', O.VerificationPendingResponse),
      404: err('execution_not_found'),
      409: err('no_outcome or invalid_state'),
    },
  },
  liveClaim: {
    method: 'post',
    path: '/v1/executions/{id}/live-claim',
    summary: 'Attest that a session runs this execution live: the first session token wins',
    tags: outcomes,
    auth: 'tenant',
    body: O.LiveClaimRequest,
    responses: {
      200: ok('Attested (first time, or the same token again)', O.LiveClaimResponse),
      404: err('execution_not_found'),
      409: err('already_attested: another session token claimed it first'),
      422: err('Invalid'),
    },
  },
  replay: {
    method: 'post',
    path: '/v1/executions/{id}/replay',
    summary: 'Run a terminal execution again as a new execution',
    tags: executions,
    auth: 'tenant',
    responses: { 201: ok('The new execution', ExecutionRecord), 409: err('Not terminal') },
  },

  // ------------------------------------------------------------------------------------ cues
  createCue: {
    method: 'post',
    path: '/v1/cues',
    summary: 'Create a cue (CueAPI nested shape, or the MCP flat shape)',
    tags: cues,
    auth: 'tenant',
    body: CreateCueRequest,
    responses: {
      201: ok('Created', CueRecord),
      400: err('invalid_schedule or invalid_callback_url (on_failure.webhook)'),
      409: err('duplicate_cue_name'),
      422: err('validation_error, invalid_timezone or webhook_url_not_allowed'),
    },
  },
  previewCue: {
    method: 'post',
    path: '/v1/cues/preview',
    summary: 'The next runs a schedule would fire (checked as cue creation checks it); nothing is stored',
    tags: cues,
    auth: 'tenant',
    body: PreviewCueRequest,
    responses: {
      200: ok('Upcoming fire times, ascending', PreviewCueResponse),
      400: err('invalid_schedule'),
      422: err('validation_error or invalid_timezone'),
    },
  },
  listCues: {
    method: 'get',
    path: '/v1/cues',
    summary: 'List cues, newest first (offset paging, ?status=)',
    tags: cues,
    auth: 'tenant',
    query: ListCuesQuery,
    responses: { 200: ok('A page', ListCuesResponse), 422: err('Invalid') },
  },
  getCue: {
    method: 'get',
    path: '/v1/cues/{id}',
    summary: 'A cue with its most recent executions (newest first)',
    tags: cues,
    auth: 'tenant',
    query: GetCueQuery,
    responses: { 200: ok('The cue', CueDetail), 404: err('cue_not_found') },
  },
  updateCue: {
    method: 'patch',
    path: '/v1/cues/{id}',
    summary: 'Edit a cue; status paused pauses it, active resumes it from now',
    tags: cues,
    auth: 'tenant',
    body: UpdateCueRequest,
    responses: {
      200: ok('The cue', CueRecord),
      400: err('invalid_schedule or invalid_callback_url (on_failure.webhook)'),
      404: err('cue_not_found'),
      409: err('duplicate_cue_name'),
      422: err('validation_error, invalid_timezone or webhook_url_not_allowed'),
    },
  },
  deleteCue: {
    method: 'delete',
    path: '/v1/cues/{id}',
    summary: 'Delete a cue (its executions stay)',
    tags: cues,
    auth: 'tenant',
    responses: { 204: { description: 'Deleted' }, 404: err('cue_not_found') },
  },
  fireCue: {
    method: 'post',
    path: '/v1/cues/{id}/fire',
    summary: 'Fire a cue now (or at send_at), whatever its schedule or status',
    tags: cues,
    auth: 'tenant',
    body: FireCueRequest,
    responses: {
      200: ok('The execution it created', FireCueResponse),
      400: err('payload_override_required or missing_required_payload_keys'),
      404: err('cue_not_found'),
    },
  },

  // ---------------------------------------------------------------------------------- alerts
  listAlerts: {
    method: 'get',
    path: '/v1/alerts',
    summary: 'Alerts, newest first (filters alert_type, cue_id, acknowledged, since; offset paging)',
    tags: outcomes,
    auth: 'tenant',
    query: O.ListAlertsQuery,
    responses: { 200: ok('A page', O.ListAlertsResponse), 422: err('Invalid') },
  },
  getAlert: {
    method: 'get',
    path: '/v1/alerts/{id}',
    summary: 'One alert',
    tags: outcomes,
    auth: 'tenant',
    responses: { 200: ok('The alert', O.Alert), 404: err('alert_not_found') },
  },
  acknowledgeAlert: {
    method: 'post',
    path: '/v1/alerts/{id}/acknowledge',
    summary: 'Acknowledge an alert (idempotent: the first acknowledgement stands)',
    tags: outcomes,
    auth: 'tenant',
    responses: { 200: ok('The alert', O.Alert), 404: err('alert_not_found') },
  },

  // ----------------------------------------------------------------- workers, leases, queues
  workerHeartbeat: { ...workerHeartbeat, path: '/v1/worker/heartbeat' },
  /** The same under the plural, as the rest of the worker routes spell it. */
  workersHeartbeat: { ...workerHeartbeat, path: '/v1/workers/heartbeat' },
  listWorkers: {
    method: 'get',
    path: '/v1/workers',
    summary: 'Workers: state (active < 180 s, stale < 900 s, dead), handlers, leases in flight, counters',
    tags: workers,
    auth: 'tenant',
    responses: { 200: ok('Workers', ListWorkersResponse) },
  },
  deleteWorker: {
    method: 'delete',
    path: '/v1/workers/{id}',
    summary: 'Forget a worker (its leases end as usual)',
    tags: workers,
    auth: 'tenant',
    responses: { 204: { description: 'Deleted' }, 404: err('Unknown worker') },
  },
  listLeases: {
    method: 'get',
    path: '/v1/leases',
    summary: 'Live leases sorted by expiry (expired-but-not-reaped ones have remaining_ms <= 0)',
    tags: ['leases'],
    auth: 'tenant',
    query: ListLeasesQuery,
    responses: { 200: ok('Leases', ListLeasesResponse), 422: err('Invalid') },
  },
  listQueues: {
    method: 'get',
    path: '/v1/queues',
    summary: 'Per task: counts by status and the age of the oldest pending execution',
    tags: ['queues'],
    auth: 'tenant',
    responses: { 200: ok('Queues', ListQueuesResponse) },
  },
  stats: {
    method: 'get',
    path: '/v1/stats',
    summary: 'Overview for ops: waiting long-polls, reaper lag, workers by state, counter totals',
    tags: ['queues'],
    auth: 'tenant',
    responses: { 200: ok('Stats', StatsResponse) },
  },
  statsRates: {
    method: 'get',
    path: '/v1/stats/rates',
    summary:
      'Activity per minute (enqueues, claims, completions, failures, reclaims) over the last 15m, 1h or 24h',
    tags: ['queues'],
    auth: 'tenant',
    query: RatesQuery,
    responses: {
      200: ok('Minutes, oldest first; the last one is the current minute', RatesResponse),
      422: err('A window other than 15m, 1h or 24h'),
    },
  },
  events: {
    method: 'get',
    path: '/v1/events',
    summary: 'Server-sent events: one `execution` event per state change of this tenant',
    tags: ['events'],
    auth: 'tenant',
    /** Not a JSON body: a text/event-stream whose `execution` events each carry one of these. */
    responses: { 200: ok('text/event-stream of ExecutionEvent', ExecutionEvent) },
  },
} as const satisfies Record<string, HttpRoute>

export type RouteName = keyof typeof ROUTES
