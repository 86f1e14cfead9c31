import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EvidenceFields, OUTCOME_LIMITS } from '@cuekit/protocol'
import { z } from 'zod'
import { type Evidence, type HandlerContext, NonRetryableError } from '../worker/handler.ts'
import type { HandlerConfig } from './config.ts'
import { renderTemplate, shellQuote, type TemplateVars } from './template.ts'

const TAIL_BYTES = 4000

/** Keeps the last `max` characters written to it. */
class Tail {
  private text = ''
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.max)
  }
  toString(): string {
    return this.text
  }
}

export interface CommandResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  aborted: boolean
  stdout: string
  stderr: string
}

export interface CommandSpec {
  cmd: string
  cwd?: string | undefined
  env: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
  /** Between SIGTERM and SIGKILL of the process group. Default 5000 ms. */
  killGraceMs?: number
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void
}

/**
 * Runs `cmd` with /bin/sh in its own process group, so a timeout or an abort reaches every
 * process the command started, not just the shell: SIGTERM to the group, then SIGKILL.
 */
export function runCommand(spec: CommandSpec): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', spec.cmd], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const stdout = new Tail(TAIL_BYTES)
    const stderr = new Tail(TAIL_BYTES)
    let timedOut = false
    let aborted = false
    let killTimer: NodeJS.Timeout | undefined
    let exited = false

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        // The group is already gone.
      }
    }
    const terminate = () => {
      killGroup('SIGTERM')
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs ?? 5000)
    }
    const timeout = setTimeout(() => {
      timedOut = true
      terminate()
    }, spec.timeoutMs)
    const onAbort = () => {
      aborted = true
      terminate()
    }
    if (spec.signal?.aborted) onAbort()
    else spec.signal?.addEventListener('abort', onAbort, { once: true })

    for (const [name, stream, tail] of [
      ['stdout', child.stdout, stdout],
      ['stderr', child.stderr, stderr],
    ] as const) {
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        tail.push(chunk)
        spec.onOutput?.(name, chunk)
      })
    }

    child.once('error', (error) => {
      clearTimeout(timeout)
      clearTimeout(killTimer)
      spec.signal?.removeEventListener('abort', onAbort)
      reject(error)
    })
    child.once('exit', () => {
      exited = true
      // A background process may hold the pipes open after the shell exits; do not wait for it.
      setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
      }, 1000).unref()
    })
    child.once('close', (exitCode, signal) => {
      clearTimeout(timeout)
      // Leftovers of the group (background processes) go with it once the command is done.
      if (exited && (timedOut || aborted)) killGroup('SIGKILL')
      clearTimeout(killTimer)
      spec.signal?.removeEventListener('abort', onAbort)
      resolve({
        exitCode,
        signal,
        timedOut,
        aborted,
        stdout: stdout.toString(),
        stderr: stderr.toString(),
      })
    })
  })
}

/** What a handler may write to `$CUEAPI_OUTCOME_FILE`: one JSON object, every field optional. */
export const OutcomeFile = z.looseObject({
  success: z.boolean().optional(),
  /** Cuekit extension: `false` makes a failure final. */
  retry: z.boolean().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  external_id: z.string().optional(),
  result_url: z.string().optional(),
  result_ref: z.string().optional(),
  result_type: z.string().optional(),
  summary: z.string().optional(),
  artifacts: z.array(z.unknown()).optional(),
})
export type OutcomeFile = z.infer<typeof OutcomeFile>

/** Reads the outcome file: null when the handler left it empty, an error string when it is unusable. */
export async function readOutcomeFile(path: string): Promise<OutcomeFile | null | { invalid: string }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return null
  }
  if (text.trim() === '') return null
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { invalid: 'not JSON' }
  }
  const parsed = OutcomeFile.safeParse(json)
  if (!parsed.success) {
    return {
      invalid: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    }
  }
  return parsed.data
}

const EvidenceField = z.object({
  ...EvidenceFields,
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
})

/**
 * The evidence of an outcome file, as the server takes it: CueAPI's fields only (others, such as
 * `produced_at`, are ignored as CueAPI ignores them), a long summary cut to its limit, and a field
 * the server would refuse left out with a warning, so one bad field cannot lose the whole report.
 */
export function evidenceOf(fields: Record<string, unknown>, warn: (message: string) => void): Evidence {
  const evidence: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(EvidenceField.shape)) {
    let value = fields[key]
    if (value === undefined) continue
    if (key === 'summary' && typeof value === 'string')
      value = value.slice(0, OUTCOME_LIMITS.summaryMaxLength)
    const parsed = schema.safeParse(value)
    if (parsed.success) evidence[key] = parsed.data
    else warn(`ignoring the outcome file's ${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  }
  return evidence as Evidence
}

export interface CommandHandlerOptions {
  apiKey: string
  baseUrl: string
  /** The environment every handler inherits (the daemon's own). */
  baseEnv: Record<string, string | undefined>
  killGraceMs?: number
  onOutput?: (ctx: HandlerContext<unknown>, stream: 'stdout' | 'stderr', chunk: string) => void
  onWarning?: (ctx: HandlerContext<unknown>, message: string) => void
}

const RESULT_CHARS = 2000

/**
 * A Worker handler that runs one configured command per execution, cueapi-worker style: the
 * CUEAPI_* variables, templates, the outcome file, exit 0 = success, a timeout = failure.
 */
export function commandHandler(handler: HandlerConfig, options: CommandHandlerOptions) {
  return async (ctx: HandlerContext<unknown>): Promise<unknown> => {
    const dir = await mkdtemp(join(tmpdir(), 'cuekit-run-'))
    const outcomePath = join(dir, 'outcome.json')
    try {
      await writeFile(outcomePath, '')
      const vars: TemplateVars = {
        payload: ctx.payload,
        execution_id: ctx.executionId,
        cue_id: ctx.cueId,
        cue_name: ctx.cueName,
        task: ctx.task,
        attempt: ctx.attempt,
        worker_id: ctx.workerId,
        scheduled_for: ctx.scheduledFor,
      }
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(options.baseEnv)) if (v !== undefined) env[k] = v
      Object.assign(env, {
        CUEAPI_EXECUTION_ID: ctx.executionId,
        CUEAPI_CUE_ID: ctx.cueId ?? '',
        CUEAPI_CUE_NAME: ctx.cueName ?? '',
        CUEAPI_WORKER_ID: ctx.workerId,
        CUEAPI_PAYLOAD: JSON.stringify(ctx.payload ?? null),
        CUEAPI_API_KEY: options.apiKey,
        CUEAPI_BASE_URL: options.baseUrl,
        CUEAPI_OUTCOME_FILE: outcomePath,
        CUEAPI_TASK: ctx.task,
        CUEAPI_ATTEMPT: String(ctx.attempt),
        CUEKIT_FENCING_TOKEN: String(ctx.fencingToken),
      })
      for (const [k, v] of Object.entries(handler.env)) env[k] = renderTemplate(v, vars)
      const result = await runCommand({
        cmd: renderTemplate(handler.cmd, vars, shellQuote),
        cwd: handler.cwd === undefined ? undefined : renderTemplate(handler.cwd, vars),
        env,
        timeoutMs: handler.timeoutSeconds * 1000,
        signal: ctx.signal,
        killGraceMs: options.killGraceMs,
        onOutput: (stream, chunk) => options.onOutput?.(ctx, stream, chunk),
      })

      const file = await readOutcomeFile(outcomePath)
      let outcome: OutcomeFile = {}
      if (file && 'invalid' in file) options.onWarning?.(ctx, `ignoring the outcome file: ${file.invalid}`)
      else if (file) outcome = file
      const { success, retry, result: fileResult, error: fileError, ...fields } = outcome
      ctx.evidence(evidenceOf(fields, (m) => options.onWarning?.(ctx, m)))

      if (result.aborted) throw ctx.signal.reason
      if (result.timedOut) throw new Error(`timed out after ${handler.timeoutSeconds} s`)
      const stderr = result.stderr.trim().slice(-RESULT_CHARS)
      if (result.exitCode !== 0) {
        const how = result.exitCode === null ? `killed by ${result.signal}` : `exit code ${result.exitCode}`
        const detail = fileError ?? stderr
        const message = detail ? `${how}: ${detail}` : how
        throw retry === false ? new NonRetryableError(message) : new Error(message)
      }
      if (success === false) {
        const message = fileError ?? 'the handler reported failure in its outcome file'
        throw retry === false ? new NonRetryableError(message) : new Error(message)
      }
      if (fileResult !== undefined) return fileResult
      const stdout = result.stdout.trim().slice(-RESULT_CHARS)
      return stdout === '' ? undefined : stdout
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}
