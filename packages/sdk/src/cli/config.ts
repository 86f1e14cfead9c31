import { LeaseSeconds, TaskName, WorkerId } from '@cuekit/protocol'
import { parse } from 'yaml'
import { z } from 'zod'
import { DEFAULT_BASE_URL } from '../client.ts'
import { unknownTemplates } from './template.ts'

const EnvValue = z.union([z.string(), z.number(), z.boolean()]).transform(String)

// A bare string is shorthand for `{cmd: ...}`; normalising first keeps error messages specific.
const HandlerSpec = z.preprocess(
  (value) => (typeof value === 'string' ? { cmd: value } : value),
  z.looseObject({
    cmd: z.string().min(1),
    cwd: z.string().min(1).optional(),
    /** Seconds; the process group is killed when it runs longer. */
    timeout: z.number().positive().optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a variable name'), EnvValue).optional(),
  }),
)

/**
 * The cueapi-worker YAML format, plus Cuekit's optional `lease_seconds` and `shutdown_timeout`.
 * Unknown keys are accepted (and reported) so configs written for newer cueapi-worker versions load.
 */
export const WorkerConfigFile = z.looseObject({
  api_key: z.string().min(1).optional(),
  api_base: z.url().optional(),
  worker_id: WorkerId.optional(),
  /** Seconds to pause after an empty claim that returned early (CueAPI: between polls). */
  poll_interval: z.number().positive().max(300).default(5),
  /** Seconds between the worker's own liveness heartbeats. */
  heartbeat_interval: z.number().positive().max(3600).default(30),
  max_concurrent: z.number().int().min(1).max(100).default(4),
  lease_seconds: LeaseSeconds.optional(),
  /** Seconds SIGTERM waits for running handlers before releasing their executions. */
  shutdown_timeout: z.number().positive().max(3600).default(30),
  handlers: z
    .record(TaskName, HandlerSpec)
    .refine((h) => Object.keys(h).length > 0, 'at least one handler is required')
    .refine((h) => Object.keys(h).length <= 50, 'at most 50 handlers per worker'),
})

/** One handler after defaults. */
export interface HandlerConfig {
  task: string
  cmd: string
  cwd: string | undefined
  timeoutSeconds: number
  env: Record<string, string>
}

/** A loaded, checked config. */
export interface WorkerConfig {
  apiKey: string
  baseUrl: string
  workerId: string
  pollIntervalSeconds: number
  heartbeatIntervalSeconds: number
  maxConcurrent: number
  leaseSeconds: number | undefined
  shutdownTimeoutSeconds: number
  handlers: HandlerConfig[]
  /** Top-level keys this version does not know (ignored). */
  unknownKeys: string[]
}

/** A config that cannot run; the message says where and why. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Default per-handler timeout when the config gives none. */
export const DEFAULT_HANDLER_TIMEOUT_SECONDS = 300

const KNOWN = new Set(Object.keys(WorkerConfigFile.shape))

/**
 * Parses and checks a config file's text. `fallback` supplies what the file may omit (the CLI
 * fills it from CUEAPI_API_KEY / CUEAPI_BASE_URL and the host name).
 */
export function loadConfig(
  yamlText: string,
  fallback: { apiKey?: string | undefined; baseUrl?: string | undefined; workerId: string },
): WorkerConfig {
  let raw: unknown
  try {
    raw = parse(yamlText)
  } catch (error) {
    throw new ConfigError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`)
  }
  const parsed = WorkerConfigFile.safeParse(raw ?? {})
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new ConfigError(`invalid config:\n${lines.join('\n')}`)
  }
  const file = parsed.data
  const apiKey = file.api_key ?? fallback.apiKey
  if (!apiKey) throw new ConfigError('no API key: set api_key in the config, or CUEAPI_API_KEY')
  const handlers: HandlerConfig[] = []
  for (const [task, spec] of Object.entries(file.handlers)) {
    const handler: HandlerConfig = {
      task,
      cmd: spec.cmd,
      cwd: spec.cwd,
      timeoutSeconds: spec.timeout ?? DEFAULT_HANDLER_TIMEOUT_SECONDS,
      env: spec.env ?? {},
    }
    const texts: [string, string][] = [
      ['cmd', handler.cmd],
      ['cwd', handler.cwd ?? ''],
      ...Object.entries(handler.env).map(([k, v]): [string, string] => [`env.${k}`, v]),
    ]
    for (const [where, text] of texts) {
      const bad = unknownTemplates(text)
      if (bad.length > 0) {
        throw new ConfigError(
          `handlers.${task}.${where}: unknown template ${bad.join(', ')} (use {{ payload.<field> }}, {{ execution_id }}, {{ cue_id }}, {{ cue_name }}, {{ task }}, {{ attempt }}, {{ worker_id }}, {{ scheduled_for }})`,
        )
      }
    }
    handlers.push(handler)
  }
  return {
    apiKey,
    baseUrl: file.api_base ?? fallback.baseUrl ?? DEFAULT_BASE_URL,
    workerId: file.worker_id ?? fallback.workerId,
    pollIntervalSeconds: file.poll_interval,
    heartbeatIntervalSeconds: file.heartbeat_interval,
    maxConcurrent: file.max_concurrent,
    leaseSeconds: file.lease_seconds,
    shutdownTimeoutSeconds: file.shutdown_timeout,
    handlers,
    unknownKeys: Object.keys(file).filter((k) => !KNOWN.has(k)),
  }
}
