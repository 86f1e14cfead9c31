import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { UnauthorizedError } from '../errors.ts'
import { SDK_VERSION } from '../version.ts'
import type { HandlerFunction } from '../worker/handler.ts'
import { Worker } from '../worker.ts'
import { ConfigError, loadConfig, shutdownTimeoutOf } from './config.ts'
import { commandHandler } from './run.ts'
import { type CliRuntime, processRuntime, systemdUnit } from './service.ts'

const USAGE = `Usage: cuekit-worker [start] [--config <file>]
       cuekit-worker install-service [--config <file>] [--name <unit>] [--user <user>]

Runs shell handlers for Cuekit executions, configured with a cueapi-worker YAML file.
install-service prints a systemd unit that runs this worker with that config (redirect it to
/etc/systemd/system/<unit>.service); it installs nothing itself.

Options:
  -c, --config <file>  the YAML config (default: $CUEKIT_WORKER_CONFIG, $CUEAPI_WORKER_CONFIG,
                       ./cuekit-worker.yaml or ./cueapi-worker.yaml)
      --name <unit>    install-service: the unit's name (default cuekit-worker)
      --user <user>    install-service: the user it runs as (default: the current user)
  -h, --help           this help
  -v, --version        the version

The API key comes from api_key in the config, else $CUEKIT_API_KEY or $CUEAPI_API_KEY; the server
from api_base, else $CUEKIT_BASE_URL or $CUEAPI_BASE_URL, else http://127.0.0.1:8080. In the
config, $VAR and \${VAR} in api_key, api_base, worker_id and a handler's cwd and env values come
from the environment ($$ is a literal $); an unset variable is an error.
SIGTERM or SIGINT stops gracefully; a second one exits at once.`

export interface CliIo {
  out(line: string): void
  err(line: string): void
  exit(code: number): void
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void
}

function findConfig(args: string[], env: Record<string, string | undefined>): string | null {
  const i = args.findIndex((a) => a === '--config' || a === '-c')
  if (i >= 0) return args[i + 1] ?? null
  const inline = args.find((a) => a.startsWith('--config='))
  if (inline) return inline.slice('--config='.length)
  const fromEnv = env.CUEKIT_WORKER_CONFIG ?? env.CUEAPI_WORKER_CONFIG
  if (fromEnv) return fromEnv
  for (const name of ['cuekit-worker.yaml', 'cueapi-worker.yaml']) if (existsSync(name)) return name
  return null
}

function time(): string {
  return new Date().toISOString()
}

/**
 * The `cuekit-worker` command. It is the one part of the SDK that reads the environment: for the
 * config path, the API key and base URL fallbacks, and the environment handlers inherit.
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  runtime: CliRuntime = processRuntime(),
): Promise<Worker | null> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE)
    return null
  }
  if (args.includes('--version') || args.includes('-v')) {
    io.out(SDK_VERSION)
    return null
  }
  const path = findConfig(args, env)
  if (!path) {
    io.err(`cuekit-worker: no config file given\n\n${USAGE}`)
    io.exit(2)
    return null
  }
  if (args[0] === 'install-service') {
    installService(args, env, io, runtime, resolve(runtime.cwd, path))
    return null
  }
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(
      readFileSync(resolve(path), 'utf8'),
      {
        apiKey: env.CUEKIT_API_KEY ?? env.CUEAPI_API_KEY,
        apiKeyVariable: env.CUEKIT_API_KEY === undefined ? 'CUEAPI_API_KEY' : 'CUEKIT_API_KEY',
        baseUrl: env.CUEKIT_BASE_URL ?? env.CUEAPI_BASE_URL,
        workerId: hostname(),
      },
      { env, file: resolve(path) },
    )
  } catch (error) {
    const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error)
    io.err(`cuekit-worker: ${path}: ${message}`)
    io.exit(2)
    return null
  }
  for (const key of config.unknownKeys) io.err(`cuekit-worker: ignoring unknown config key "${key}"`)

  const log = (line: string) => io.out(`${time()} ${line}`)
  const handlers: Record<string, HandlerFunction> = {}
  for (const handler of config.handlers) {
    handlers[handler.task] = commandHandler(handler, {
      apiKey: config.apiKey,
      baseUrl: config.baseUrl,
      baseEnv: env,
      onOutput: (ctx, stream, chunk) => {
        const write = stream === 'stdout' ? io.out : io.err
        for (const line of chunk.replace(/\n$/, '').split('\n'))
          write(`[${ctx.task} ${ctx.executionId}] ${line}`)
      },
      onWarning: (ctx, message) => io.err(`${time()} ${ctx.executionId}: ${message}`),
    })
  }

  const worker = new Worker({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    workerId: config.workerId,
    concurrency: config.maxConcurrent,
    leaseSeconds: config.leaseSeconds,
    idleDelayMs: config.pollIntervalSeconds * 1000,
    announceIntervalMs: config.heartbeatIntervalSeconds * 1000,
    stopTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    handlers,
  })
  worker.on('claimed', (e) =>
    log(`claimed ${e.executionId} task=${e.task} attempt=${e.attempt}/${e.maxAttempts}`),
  )
  worker.on('completed', (e) => log(`completed ${e.executionId} in ${Math.round(e.durationMs)} ms`))
  worker.on('failed', (e) => log(`failed ${e.executionId}: ${e.error.message}${e.retry ? '' : ' (final)'}`))
  worker.on('reported', (e) => log(`reported ${e.executionId}: ${e.status}`))
  worker.on('lost', (e) => log(`lease lost ${e.executionId}: ${e.error.message}`))
  worker.on('cancelled', (e) => log(`cancelled ${e.executionId}`))
  worker.on('released', (e) => log(`released ${e.executionId} (${e.reason})`))
  // A refused key names where it came from: the file (and the variables it was expanded from) or
  // the environment, which is the first thing to check when several are in play.
  const refused = (error: unknown) =>
    `the server at ${config.baseUrl} refused the API key from ${config.apiKeySource}: ${error instanceof Error ? error.message : String(error)}`
  worker.on('error', (error) =>
    io.err(`${time()} error: ${error instanceof UnauthorizedError ? refused(error) : error.message}`),
  )

  let signals = 0
  const onSignal = (signal: string) => {
    signals++
    if (signals > 1) {
      io.err(`${time()} ${signal} again: exiting now`)
      io.exit(1)
      return
    }
    log(`${signal}: stopping (up to ${config.shutdownTimeoutSeconds} s for running handlers)`)
    void worker.stop().then(() => {
      log('stopped')
      io.exit(0)
    })
  }
  io.onSignal('SIGTERM', () => onSignal('SIGTERM'))
  io.onSignal('SIGINT', () => onSignal('SIGINT'))

  try {
    await worker.start()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    io.err(`cuekit-worker: ${error instanceof UnauthorizedError ? refused(error) : message}`)
    io.exit(1)
    return null
  }
  log(
    `cuekit-worker ${SDK_VERSION}: worker ${config.workerId} on ${config.baseUrl}, ${config.maxConcurrent} slots, tasks: ${config.handlers.map((h) => h.task).join(', ')}`,
  )
  return worker
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i >= 0) return args[i + 1]
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
}

/** Prints the systemd unit; reads only `shutdown_timeout` from the config (its variables may only be set under systemd). */
function installService(
  args: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  runtime: CliRuntime,
  config: string,
): void {
  let shutdownTimeoutSeconds: number
  try {
    shutdownTimeoutSeconds = shutdownTimeoutOf(readFileSync(config, 'utf8'))
  } catch (error) {
    io.err(`cuekit-worker: ${config}: ${error instanceof Error ? error.message : String(error)}`)
    io.exit(2)
    return
  }
  const name = option(args, '--name') ?? 'cuekit-worker'
  if (!/^[A-Za-z0-9:_.@-]+$/.test(name)) {
    io.err(`cuekit-worker: --name ${JSON.stringify(name)}: letters, digits and :_.@- only`)
    io.exit(2)
    return
  }
  io.out(
    systemdUnit({
      runtime,
      config,
      name,
      user: option(args, '--user') ?? runtime.user,
      shutdownTimeoutSeconds,
      path: env.PATH,
    }),
  )
}
