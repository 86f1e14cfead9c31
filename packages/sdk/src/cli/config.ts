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
  /** Where the key came from, for messages: `api_key in <file>` or an environment variable. */
  apiKeySource: string
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

const REFERENCE = /\$(?:(\$)|\{([^}]*)(\}?)|([A-Za-z_][A-Za-z0-9_]*))/g
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Expands `${NAME}` and `$NAME` in one config value from `env`, as shells and cueapi-worker
 * configs write them. `$$` is a literal `$`; a `$` before anything else stays as it is. A variable
 * that is not set is an error naming it and the key (`where`), never a silent empty string: an
 * empty API key or URL would only fail later, further from the cause.
 */
export function expandVariables(
  text: string,
  env: Record<string, string | undefined>,
  where: string,
): { value: string; names: string[] } {
  const names: string[] = []
  const value = text.replace(REFERENCE, (whole, dollar, braced, closed, bare) => {
    if (dollar) return '$'
    const name: string = bare ?? braced
    if (bare === undefined && (!closed || !NAME.test(name))) {
      throw new ConfigError(
        `${where}: ${closed ? `invalid variable name in ${whole}` : `unclosed ${whole}`} (write $$ for a literal $)`,
      )
    }
    const found = env[name]
    if (found === undefined) {
      throw new ConfigError(`${where}: $${name} is not set in the environment (write $$ for a literal $)`)
    }
    names.push(name)
    return found
  })
  return { value, names }
}

/**
 * Expands variables where a config holds values for the daemon: `api_key`, `api_base`, `worker_id`,
 * and each handler's `cwd` and `env` values. Not in `cmd`: the shell expands those when the command
 * runs, with the handler's environment (which has the CUEAPI_* variables). Returns the variables
 * `api_key` was made from.
 */
function expandConfig(raw: unknown, env: Record<string, string | undefined>): string[] {
  if (raw === null || typeof raw !== 'object') return []
  const file = raw as Record<string, unknown>
  let apiKeyNames: string[] = []
  for (const key of ['api_key', 'api_base', 'worker_id']) {
    const text = file[key]
    if (typeof text !== 'string') continue
    const { value, names } = expandVariables(text, env, key)
    file[key] = value
    if (key === 'api_key') apiKeyNames = names
  }
  const handlers = file.handlers
  if (handlers === null || typeof handlers !== 'object') return apiKeyNames
  for (const [task, spec] of Object.entries(handlers as Record<string, unknown>)) {
    if (spec === null || typeof spec !== 'object') continue
    const handler = spec as Record<string, unknown>
    if (typeof handler.cwd === 'string') {
      handler.cwd = expandVariables(handler.cwd, env, `handlers.${task}.cwd`).value
    }
    if (handler.env === null || typeof handler.env !== 'object') continue
    const vars = handler.env as Record<string, unknown>
    for (const [name, text] of Object.entries(vars)) {
      if (typeof text === 'string')
        vars[name] = expandVariables(text, env, `handlers.${task}.env.${name}`).value
    }
  }
  return apiKeyNames
}

/**
 * Parses and checks a config file's text. `fallback` supplies what the file may omit (the CLI
 * fills it from CUEKIT_API_KEY / CUEAPI_API_KEY, the base URL variables and the host name, and
 * names the variable the key came from); `env` is what `$VAR` references expand from; `file`
 * names the config in `apiKeySource`.
 */
export function loadConfig(
  yamlText: string,
  fallback: {
    apiKey?: string | undefined
    apiKeyVariable?: string | undefined
    baseUrl?: string | undefined
    workerId: string
  },
  options: { env?: Record<string, string | undefined>; file?: string } = {},
): WorkerConfig {
  let raw: unknown
  try {
    raw = parse(yamlText)
  } catch (error) {
    throw new ConfigError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`)
  }
  const apiKeyNames = expandConfig(raw, options.env ?? {})
  const parsed = WorkerConfigFile.safeParse(raw ?? {})
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new ConfigError(`invalid config:\n${lines.join('\n')}`)
  }
  const file = parsed.data
  const apiKey = file.api_key ?? fallback.apiKey
  if (!apiKey)
    throw new ConfigError('no API key: set api_key in the config, or CUEKIT_API_KEY (or CUEAPI_API_KEY)')
  const inFile = `api_key in ${options.file ?? 'the config'}`
  const apiKeySource =
    file.api_key === undefined
      ? `the environment variable ${fallback.apiKeyVariable ?? 'CUEKIT_API_KEY'}`
      : apiKeyNames.length > 0
        ? `${inFile} (from ${apiKeyNames.map((n) => `$${n}`).join(', ')})`
        : inFile
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
    apiKeySource,
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

/** A config's `shutdown_timeout` (or its default), checked, without loading the rest. */
export function shutdownTimeoutOf(yamlText: string): number {
  let raw: unknown
  try {
    raw = parse(yamlText)
  } catch (error) {
    throw new ConfigError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`)
  }
  const value =
    raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).shutdown_timeout : undefined
  const parsed = WorkerConfigFile.shape.shutdown_timeout.safeParse(value)
  if (!parsed.success) throw new ConfigError(`shutdown_timeout: ${parsed.error.issues[0]?.message}`)
  return parsed.data
}
