import { LIMITS } from '@cuekit/protocol'
import { z } from 'zod'

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** The server's environment (README.md#configuration), parsed once by main.ts. */
export const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z.string().url().optional(),
  /** Comma-separated host:port seeds; when set, Cuekit talks to a Redis Cluster. */
  REDIS_CLUSTER_NODES: z.string().optional(),
  CUEKIT_ADMIN_KEY: z.string().min(16).optional(),
  CUEKIT_DEFAULT_LEASE_SECONDS: z.coerce.number().int().min(1).max(LIMITS.maxLeaseSeconds).default(900),
  CUEKIT_MAX_WAIT_SECONDS: z.coerce.number().min(0).max(LIMITS.maxWaitSeconds).default(30),
  CUEKIT_REQUIRE_LEASE_TOKEN: bool.default(false),
  CUEKIT_OPEN_REGISTRATION: bool.optional(),
  /** Requests per second per API key (token bucket, burst 2x); 0 disables. */
  CUEKIT_RATE_LIMIT: z.coerce.number().min(0).default(2000),
  /** Partitions a new tenant's data is spread over (Redis Cluster scale-out). */
  CUEKIT_PARTITIONS: z.coerce.number().int().min(1).max(64).default(1),
  CUEKIT_KEY_PREFIX: z.string().min(1).max(32).default('ck'),
  CUEKIT_RETENTION_SECONDS: z.coerce.number().min(60).default(LIMITS.retentionSeconds),
  /** How often idle long-polls re-check on their own, in case a notification was lost. */
  CUEKIT_WAITER_RECHECK_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /** Slow clients are cut off: all headers within this, the whole request within the next. */
  CUEKIT_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  CUEKIT_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  /** Lets webhook cues reach private, loopback and link-local addresses: dev and tests only. */
  CUEKIT_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** A webhook execution's lease is its cue's timeout plus this margin. */
  CUEKIT_WEBHOOK_LEASE_MARGIN_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /**
   * SMTP server for a cue's on_failure.email (`smtp://user:pass@host:587`, `smtps://…:465`); unset,
   * no mail is sent and cues asking for it say so in their `warning`.
   */
  CUEKIT_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** The From of those mails. */
  CUEKIT_SMTP_FROM: z.string().min(3).default('Cuekit <cuekit@localhost>'),
  /** Bearer token `GET /metrics` requires; unset leaves it open, as Prometheus exporters usually are. */
  CUEKIT_METRICS_TOKEN: z.string().min(16).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
export type Env = z.infer<typeof Env>

/** What the app needs at run time; tests build it directly. */
export interface ServerConfig {
  adminKey: string | null
  maxWaitSeconds: number
  requireLeaseToken: boolean
  openRegistration: boolean
  /** Requests per second per API key; 0 disables. */
  rateLimit: number
  partitions: number
  /** Coarse re-check of idle long-polls, in case a notification was lost. */
  waiterRecheckMs: number
  /** Webhook cues may target private, loopback and link-local addresses (dev and tests). */
  webhookAllowPrivate: boolean
  /** Webhook deliveries in flight per server at most. */
  webhookConcurrency: number
  /** Coarse re-check of tenants with webhook cues, in case a notification was lost. */
  webhookRecheckMs: number
  /** A notice's (alert webhook, on_failure webhook or mail) lease is its timeout plus this margin. */
  webhookLeaseMarginSeconds: number
  /** How long an alert or on_failure webhook, or a mail, may take (CueAPI: 10 s). */
  noticeTimeoutMs: number
  /** SMTP for on_failure.email; null: no mail (the engine must then have `emailEnabled` off). */
  smtp: { url: string; from: string } | null
  /** Bearer token for `GET /metrics`; null leaves it open. */
  metricsToken: string | null
  /** How often the queue gauges of `/metrics` are refreshed while someone scrapes. */
  metricsRefreshMs: number
}

export const defaultServerConfig: ServerConfig = {
  adminKey: null,
  maxWaitSeconds: LIMITS.maxWaitSeconds,
  requireLeaseToken: false,
  openRegistration: false,
  rateLimit: 0,
  partitions: 1,
  waiterRecheckMs: 2000,
  webhookAllowPrivate: false,
  webhookConcurrency: 32,
  webhookRecheckMs: 5000,
  webhookLeaseMarginSeconds: 10,
  noticeTimeoutMs: 10_000,
  smtp: null,
  metricsToken: null,
  metricsRefreshMs: 10_000,
}
