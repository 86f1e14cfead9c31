import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTenant, type ServerProcess, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { Client } from '@cuekit/sdk'
import { inject } from 'vitest'

let prefixes = 0

/**
 * A control plane on the project's private Redis, under a key prefix of its own. Tear it down with
 * `kill()`: a graceful `stop()` waits out the server's 30 s force timeout whenever a client holds a
 * connection that has not sent a request yet, which undici does right after an aborted request
 * (reported to the server's owner).
 */
export function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  prefixes += 1
  return startServerProcess({
    redisUrl: inject('redisUrl'),
    env: { CUEKIT_KEY_PREFIX: `sdk${process.pid}x${prefixes}`, CUEKIT_WAITER_RECHECK_MS: '200', ...env },
  })
}

/** A fresh tenant on `server`, and a client for it. */
export async function tenantOn(server: {
  url: string
  adminKey: string
}): Promise<{ apiKey: string; client: Client }> {
  const { api_key } = await createTenant(server.url, server.adminKey)
  return { apiKey: api_key, client: new Client({ baseUrl: server.url, apiKey: api_key }) }
}

export interface Call {
  method: string
  path: string
  body: unknown
}

/**
 * A `fetch` that records every request and lets a test interfere: `intercept` may answer instead
 * of the server (return a Response or throw), or let it through (return undefined). `after` sees
 * the real response and may replace it, e.g. throw to lose it after the server acted.
 */
export function recordingFetch(
  hooks: {
    intercept?: (call: Call) => Promise<Response | undefined> | Response | undefined
    after?: (call: Call, response: Response) => Promise<Response> | Response
  } = {},
) {
  const calls: Call[] = []
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    const text = typeof init?.body === 'string' ? init.body : undefined
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      body: text ? JSON.parse(text) : undefined,
    }
    calls.push(call)
    const early = await hooks.intercept?.(call)
    if (early) return early
    const response = await fetch(input, init)
    return hooks.after ? hooks.after(call, response) : response
  }
  return { fetch: fetchImpl, calls }
}

/**
 * The outcome reports a request carried: `/executions/{id}/outcome`, the batch endpoint, or a
 * claim that reported along (the worker piggybacks finished outcomes on its next claim).
 */
export function outcomesIn(call: Call): ({ execution_id: string } & Record<string, unknown>)[] {
  const single = /^\/v1\/executions\/([^/]+)\/outcome$/.exec(call.path)
  if (single) return [{ execution_id: single[1]!, ...(call.body as Record<string, unknown>) }]
  if (call.path === '/v1/executions/outcomes' || call.path === '/v1/executions/claim') {
    return (
      (call.body as { outcomes?: ({ execution_id: string } & Record<string, unknown>)[] })?.outcomes ?? []
    )
  }
  return []
}

/** The network error global fetch throws when the connection fails. */
export function networkError(): TypeError {
  return new TypeError('fetch failed', { cause: new Error('ECONNRESET (simulated)') })
}

export type Route = (
  req: IncomingMessage,
  body: unknown,
  res: ServerResponse,
  raw: Buffer,
) => void | Promise<void>

/** A programmable HTTP server for client behaviour the real server cannot be made to show. */
export async function fakeServer(
  route: Route,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const text = raw.toString('utf8')
      let body: unknown
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        body = text
      }
      Promise.resolve(route(req, body, res, raw)).catch((error: unknown) => {
        res.statusCode = 500
        res.end(String(error))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
