import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.ts'
import { waitFor } from './wait.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const startScript = fileURLToPath(new URL('../../apps/server/start.mjs', import.meta.url))

export interface ServerProcess {
  url: string
  port: number
  adminKey: string
  readonly process: ChildProcess
  /** Everything the process printed (stdout and stderr), for assertions and failure reports. */
  output: string[]
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>
  /** Kill without a clean shutdown (default SIGKILL) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Start again on the same port with the same environment. */
  restart(): Promise<void>
}

export interface ServerProcessOptions {
  /** Omit for the in-memory store. */
  redisUrl?: string
  env?: Record<string, string>
  port?: number
  /** Extra Node.js flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeArgs?: string[]
  /** The script node runs; default apps/server/start.mjs (what `npm start` runs). */
  entry?: string
}

/** The environment of a server process: this one's, less its CUEKIT_ and REDIS_ settings, plus `options`. */
export function serverProcessEnv(
  port: number,
  adminKey: string,
  options: ServerProcessOptions,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('CUEKIT_') && !k.startsWith('REDIS_')) env[k] = v
  }
  return Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    CUEKIT_ADMIN_KEY: adminKey,
    CUEKIT_RATE_LIMIT: '0',
    LOG_LEVEL: 'warn',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  })
}

/** Runs the control plane as `npm start` does (apps/server/start.mjs), in a child process, and waits for /health. */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort())
  const adminKey = `cue_admin_${randomBytes(16).toString('hex')}`
  const env = serverProcessEnv(port, adminKey, options)
  const output: string[] = []
  let child!: ChildProcess
  const url = `http://127.0.0.1:${port}`

  const launch = async () => {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), startScript], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()))
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output.join('')}`))),
    )
    exited.catch(() => {})
    await Promise.race([
      waitFor(async () => (await fetch(`${url}/health`)).ok, {
        timeoutMs: 30_000,
        intervalMs: 50,
        message: `server on ${url} did not become healthy`,
      }),
      exited,
    ])
  }
  await launch()

  const exit = () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  return {
    url,
    port,
    adminKey,
    get process() {
      return child
    },
    output,
    async stop() {
      const done = exit()
      child.kill('SIGTERM')
      return done
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const done = exit()
      child.kill(signal)
      await done
    },
    async restart() {
      const done = exit()
      child.kill('SIGKILL')
      await done
      await launch()
    },
  }
}

/** Creates a tenant through the admin API; returns its id and API key. */
export async function createTenant(
  url: string,
  adminKey: string,
  name = 'test',
): Promise<{ tenant_id: string; api_key: string }> {
  const res = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  if (res.status !== 201) throw new Error(`creating a tenant failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as { tenant_id: string; api_key: string }
}

/** A tenant's JSON calls to a server over real HTTP: status and parsed body. */
export function tenantClient(base: string, apiKey: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

export interface ServerExit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs the control plane (apps/server/start.mjs) until it exits: by itself, as it does when it
 * cannot start, or when `onStdout` (called with everything printed so far) stops it. Killed after
 * `timeoutMs`.
 */
export async function runServerProcess(
  options: ServerProcessOptions = {},
  timeoutMs = 30_000,
  onStdout?: (stdout: string, child: ChildProcess) => void,
): Promise<ServerExit> {
  const port = options.port ?? (await freePort())
  const env = serverProcessEnv(port, `cue_admin_${randomBytes(16).toString('hex')}`, options)
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? startScript], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
    onStdout?.(stdout, child)
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}
