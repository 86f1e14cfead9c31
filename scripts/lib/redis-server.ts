import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports.ts'
import { waitFor } from './wait.ts'

export interface RedisServer {
  port: number
  url: string
  dir: string
  process: ChildProcess
  /** SIGKILL (or another signal) without waiting for a clean shutdown. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port and data directory (an AOF restart when enabled). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. ['--appendonly', 'yes']. */
  args?: string[]
  port?: number
}

function assertBinary(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not on PATH. The tests start their own Redis: install it (Debian: apt-get install redis-server).',
    )
  }
}

/** Starts a private redis-server on an ephemeral port; never touches the shared 6379. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertBinary()
  const dir = mkdtempSync(join(tmpdir(), 'cuekit-redis-'))
  let port = options.port ?? (await freePort())
  const args = options.args ?? ['--save', '', '--appendonly', 'no']
  let child: ChildProcess

  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], {
      stdio: 'ignore',
    })
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))),
    )
    exited.catch(() => {})
    const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      await Promise.race([
        waitFor(
          async () => {
            await probe.connect().catch(() => {})
            return (await probe.ping()) === 'PONG'
          },
          { timeoutMs: 10_000, intervalMs: 20, message: `redis-server on port ${port} did not answer` },
        ),
        exited,
      ])
    } finally {
      probe.disconnect()
    }
  }

  for (let tries = 0; ; tries++) {
    try {
      await launch()
      break
    } catch (error) {
      if (tries >= 4 || options.port !== undefined) throw error
      port = await freePort()
    }
  }

  const server: RedisServer = {
    get port() {
      return port
    },
    get url() {
      return `redis://127.0.0.1:${port}`
    },
    dir,
    get process() {
      return child
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((r) => child.once('exit', r))
      child.kill(signal)
      await gone
    },
    async restart() {
      await server.kill('SIGKILL')
      await launch()
    },
    async stop() {
      await server.kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}
