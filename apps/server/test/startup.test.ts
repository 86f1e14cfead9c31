import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Keys } from '@cuekit/engine'
import { freePort } from '@cuekit/scripts/lib/ports'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import {
  createTenant,
  runServerProcess,
  type ServerExit,
  serverProcessEnv,
  startServerProcess,
} from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { Redis } from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

// The real server process as an operator starts it: what it says and how it exits when it cannot
// start, when it says it is listening, and that SIGTERM to `npm start` stops it.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** The one line a failed start prints: on stderr, nothing on stdout, no stack trace. */
function expectOneLine(exit: ServerExit, code: number, line: string | RegExp): void {
  const report = `exit ${exit.code}\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`
  expect(exit.code, report).toBe(code)
  expect(exit.stdout, report).toBe('')
  const lines = exit.stderr.trimEnd().split('\n')
  expect(lines, report).toHaveLength(1)
  expect(lines[0], report).toMatch(line)
  expect(exit.stderr, 'no stack trace').not.toMatch(/^\s+at |Error:|node:internal/m)
}

const listenOn = async (port: number): Promise<Server> => {
  const taken = createServer()
  taken.listen(port, '127.0.0.1')
  await once(taken, 'listening')
  return taken
}

describe('startup failures: one line naming the setting, a distinct exit code', () => {
  it('REDIS_URL that does not answer: exit 3, the URL without its password and the reason', async () => {
    const port = await freePort()
    const exit = await runServerProcess({ redisUrl: `redis://:hunter2@127.0.0.1:${port}` })
    expectOneLine(
      exit,
      3,
      `REDIS_URL=redis://:***@127.0.0.1:${port} is not reachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    expect(exit.stderr).not.toContain('hunter2')
  })

  it('REDIS_CLUSTER_NODES that do not answer: exit 3, the seed that refused and why', async () => {
    const [a, b] = [await freePort(), await freePort()]
    const nodes = `127.0.0.1:${a},127.0.0.1:${b}`
    const exit = await runServerProcess({ env: { REDIS_CLUSTER_NODES: nodes } })
    expectOneLine(
      exit,
      3,
      `REDIS_CLUSTER_NODES=${nodes} is not reachable: 127.0.0.1:${a}: connect ECONNREFUSED 127.0.0.1:${a}`,
    )
  })

  it('a PORT in use: exit 4, naming PORT and HOST', async () => {
    const port = await freePort()
    const taken = await listenOn(port)
    try {
      const exit = await runServerProcess({ port })
      expectOneLine(exit, 4, `PORT ${port} is in use (HOST 127.0.0.1)`)
    } finally {
      taken.close()
    }
  })

  it('an invalid environment: exit 2, the setting and what is wrong with it', async () => {
    const exit = await runServerProcess({ env: { CUEKIT_DEFAULT_LEASE_SECONDS: 'soon' } })
    expectOneLine(exit, 2, /^invalid CUEKIT_DEFAULT_LEASE_SECONDS: /)
  })

  it('an SMTP URL that is not smtp:// or smtps://: exit 2, naming it', async () => {
    const exit = await runServerProcess({ env: { CUEKIT_SMTP_URL: 'http://mail.example.com' } })
    expectOneLine(exit, 2, /^invalid CUEKIT_SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/)
  })

  it('data of an earlier storage format: exit 5, the prefix and what to do', async () => {
    const prefix = `old${process.pid}`
    const redis = new Redis(inject('redisUrl'))
    // What an earlier Cuekit left: tenants, but no storage format mark.
    await redis.sadd(new Keys(prefix).tenants(), 'tn_old')
    redis.disconnect()
    const exit = await runServerProcess({ redisUrl: inject('redisUrl'), env: { CUEKIT_KEY_PREFIX: prefix } })
    expectOneLine(
      exit,
      5,
      new RegExp(`^CUEKIT_KEY_PREFIX=${prefix}: .*storage format 1.*another CUEKIT_KEY_PREFIX`),
    )
  })
})

describe('ready before it says so', () => {
  it('prints "listening" only once the port answers and storage is reachable', async () => {
    const port = await freePort()
    let readyStatus: Promise<number> | undefined
    const exit = await runServerProcess({ port, redisUrl: inject('redisUrl') }, 30_000, (stdout, child) => {
      if (readyStatus || !stdout.includes('listening on')) return
      // Asked the moment the line appears, with no retry: it must already be true.
      readyStatus = fetch(`http://127.0.0.1:${port}/ready`).then(
        (res) => res.status,
        () => -1,
      )
      void readyStatus.finally(() => child.kill('SIGTERM'))
    })
    expect(await readyStatus, exit.stdout + exit.stderr).toBe(200)
    expect(exit.stdout).toMatch(
      /^Cuekit control plane listening on http:\/\/127\.0\.0\.1:\d+\n {2}storage: Redis\n/,
    )
    expect(exit.code, 'SIGTERM drains and exits 0').toBe(0)
  })
})

describe('mail', () => {
  it('the banner says whether on_failure mail is on, with the SMTP password hidden', async () => {
    const exit = await runServerProcess(
      { env: { CUEKIT_SMTP_URL: 'smtp://cuekit:hunter2@127.0.0.1:2525' } },
      30_000,
      (stdout, child) => {
        if (stdout.includes('API docs:')) child.kill('SIGTERM')
      },
    )
    expect(exit.stdout).toContain('on_failure email: via smtp://cuekit:***@127.0.0.1:2525')
    expect(exit.stdout + exit.stderr).not.toContain('hunter2')
  })
})

describe('Redis lost while running', () => {
  it('answers 503 storage_unavailable while Redis is down and recovers when it is back', async () => {
    const redis = await startRedisServer({ args: ['--save', '', '--appendonly', 'yes'] })
    const server = await startServerProcess({ redisUrl: redis.url })
    try {
      const { api_key } = await createTenant(server.url, server.adminKey)
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      const first = (await (await call('POST', '/v1/executions', { task: 'before' })).json()) as {
        execution_id: string
      }
      await redis.kill('SIGTERM') // a clean stop: the AOF keeps what was accepted
      await waitFor(async () => (await fetch(`${server.url}/ready`)).status === 503, { timeoutMs: 10_000 })
      const refused = await call('POST', '/v1/executions', { task: 'during' })
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable')

      await redis.restart()
      await waitFor(async () => (await fetch(`${server.url}/ready`)).status === 200, { timeoutMs: 15_000 })
      expect((await call('GET', `/v1/executions/${first.execution_id}`)).status).toBe(200)
      expect((await call('POST', '/v1/executions', { task: 'after' })).status).toBe(201)
      expect(server.process.exitCode, 'the server never exited').toBeNull()
    } finally {
      await server.stop()
      await redis.stop()
    }
  })
})

describe('under a supervisor', () => {
  it('`npm run build` makes the bundle a supervisor runs with node directly; SIGTERM stops it, exit 0', async () => {
    const bundle = `${repoRoot}apps/server/dist/test-${process.pid}.mjs`
    try {
      const build = spawnSync(process.execPath, ['apps/server/build.mjs', bundle], {
        cwd: repoRoot,
        encoding: 'utf8',
      })
      expect(build.status, build.stderr).toBe(0)
      const exit = await runServerProcess({ entry: bundle }, 30_000, (stdout, child) => {
        if (stdout.includes('listening on')) child.kill('SIGTERM')
      })
      expect(exit.stdout, exit.stderr).toContain('Cuekit control plane listening on')
      expect(exit.code, exit.stderr).toBe(0)
    } finally {
      rmSync(bundle, { force: true })
    }
  })

  it('SIGTERM to the npm process (the one a supervisor holds) stops the server', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    // Its own process group, so that whatever it leaves behind can be cleaned up below.
    const npm = spawn('npm', ['start'], {
      cwd: repoRoot,
      env: serverProcessEnv(port, `cue_admin_${'0'.repeat(32)}`, { env: { LOG_LEVEL: 'info' } }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    npm.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    npm.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    try {
      await waitFor(() => output.includes('listening on'), { timeoutMs: 30_000, message: output })
      const exited = once(npm, 'exit')
      npm.kill('SIGTERM')
      const [code] = await exited
      // The server went too: nothing answers on its port, and it shut down cleanly.
      await waitFor(
        () =>
          fetch(`${url}/health`).then(
            () => false,
            () => true,
          ),
        { timeoutMs: 10_000, message: `the server still answers after npm exited:\n${output}` },
      )
      expect(code, output).toBe(0)
      expect(output).toContain('"msg":"stopped"')
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL')
      } catch {
        // the group is gone: nothing was left behind
      }
    }
  })
})
