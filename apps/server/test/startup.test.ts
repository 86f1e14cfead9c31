import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { freePort } from '@cuekit/scripts/lib/ports'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import {
  createTenant,
  runServerProcess,
  type ServerExit,
  startServerProcess,
} from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, inject, it } from 'vitest'

// The real server process as an operator starts it: what it says and how it exits when it cannot
// start, when it says it is listening, and that SIGTERM to `npm start` stops it.

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
