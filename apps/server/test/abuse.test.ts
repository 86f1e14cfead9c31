import { connect, type Socket } from 'node:net'
import { createTenant, type ServerProcess, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { RateLimiter } from '../src/ratelimit.ts'

// Abuse: slow or idle clients are cut off without starving others, floods hit bounded limits,
// and secrets never reach logs.

let server: ServerProcess

beforeAll(async () => {
  server = await startServerProcess({
    redisUrl: inject('redisUrl'),
    env: {
      CUEKIT_HEADERS_TIMEOUT_MS: '1000',
      CUEKIT_REQUEST_TIMEOUT_MS: '2000',
      CUEKIT_RATE_LIMIT: '50',
      LOG_LEVEL: 'debug',
    },
  })
}, 60_000)

afterAll(async () => {
  await server?.stop()
})

function openSocket(): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1')
    let received = ''
    socket.on('data', (d) => {
      received += d.toString()
    })
    const closed = new Promise<string>((r) => socket.on('close', () => r(received)))
    socket.once('connect', () => resolve({ socket, closed }))
    socket.once('error', reject)
  })
}

describe('slow and idle clients', () => {
  it('cuts off a client that never finishes its headers, and others are served meanwhile', async () => {
    const { socket, closed } = await openSocket()
    socket.write('POST /v1/executions HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const started = Date.now()
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
    await waitFor(() => socket.destroyed || socket.readableEnded, {
      timeoutMs: 10_000,
      message: 'slow headers not cut off',
    })
    await closed
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('cuts off a body that never ends', async () => {
    const { api_key } = await createTenant(server.url, server.adminKey)
    const { socket, closed } = await openSocket()
    socket.write(
      `POST /v1/executions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api_key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"task":`,
    )
    const answer = await Promise.race([
      closed,
      new Promise<string>((_, reject) =>
        setTimeout(() => reject(new Error('slow body not cut off')), 10_000),
      ),
    ])
    // Node answers 408 (or just closes) once the request timeout passes.
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true)
  })

  it('refuses an unknown key without waiting for its body', async () => {
    const { socket, closed } = await openSocket()
    socket.write(
      'POST /v1/executions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cue_sk_00000000000000000000000000000000\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"task":',
    )
    const answer = await Promise.race([
      closed,
      new Promise<string>((_, reject) => setTimeout(() => reject(new Error('connection kept open')), 10_000)),
    ])
    // The body never arrives, yet the answer is the 401 (before the body, not a 408 after it).
    expect(answer).toMatch(/^HTTP\/1\.1 401/)
  })

  it('closes a connection that never sends a request', async () => {
    const { closed } = await openSocket()
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('idle connection kept open')), 10_000)),
    ])
  })
})

describe('floods', () => {
  it('a flood from one key is limited with 429s while the server stays responsive', async () => {
    const { api_key } = await createTenant(server.url, server.adminKey)
    const started = Date.now()
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`${server.url}/v1/queues`, { headers: { authorization: `Bearer ${api_key}` } }).then(
          async (r) => {
            await r.arrayBuffer()
            return r.status
          },
        ),
      ),
    )
    const limited = statuses.filter((s) => s === 429).length
    // The bucket (50/s, burst 100) admits at most its burst plus what refilled meanwhile, so the
    // bound follows the time the flood really took (a loaded machine stretches it).
    const admittable = 100 + Math.ceil(50 * ((Date.now() - started) / 1000))
    expect(300 - limited).toBeLessThanOrEqual(admittable)
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it('made-up keys are limited per client address', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${server.url}/v1/queues`, {
          headers: { authorization: `Bearer cue_sk_${i.toString(16).padStart(32, '0')}` },
        }).then(async (r) => {
          await r.arrayBuffer()
          return r.status
        }),
      ),
    )
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(50)
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true)
  })

  it('the limiter forgets the least recently used keys beyond its bound', () => {
    const limiter = new RateLimiter(10, 20, 1000)
    for (let i = 0; i < 50_000; i++) limiter.take(`key-${i}`)
    expect(limiter.size).toBe(1000)
    for (let i = 0; i < 20; i++) expect(limiter.take('hot').allowed).toBe(true)
    expect(limiter.take('hot').allowed).toBe(false)
  })
})

describe('secrets', () => {
  it('API keys and lease tokens never appear in logs, listings or error messages', async () => {
    const { api_key } = await createTenant(server.url, server.adminKey)
    const h = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' }
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return r.text()
    }
    await call('POST', '/v1/executions', { task: 'secret' })
    const claim = JSON.parse(await call('POST', '/v1/executions/claim', { worker_id: 'w', task: 'secret' }))
    const token = claim.executions[0].lease.token as string
    const id = claim.execution_id as string
    const answers = [
      await call('POST', `/v1/executions/${id}/heartbeat`, { lease_token: token }),
      await call('POST', `/v1/executions/${id}/heartbeat`, { lease_token: `${token}x` }),
      await call('GET', `/v1/executions/${id}`),
      await call('GET', '/v1/leases'),
      await call('GET', '/v1/workers'),
      await call('GET', '/v1/executions'),
      await call('POST', `/v1/executions/${id}/outcome`, { lease_token: token, success: true }),
      await call('POST', `/v1/executions/${id}/outcome`, { lease_token: token, success: false }),
      await call('POST', '/v1/executions/claim', { worker_id: 'w', lease_token: token }),
    ]
    await fetch(`${server.url}/v1/queues`, { headers: { authorization: `Bearer ${api_key.slice(0, -1)}0` } })
    for (const text of answers) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(api_key)
    }
    const logs = server.output.join('')
    expect(logs.length).toBeGreaterThan(0)
    expect(logs).not.toContain(token)
    expect(logs).not.toContain(api_key)
    expect(logs).not.toContain(api_key.slice(7, 20))
    expect(logs).not.toContain(server.adminKey)
  })
})
