import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** Answer a request the handler chose to hold. */
  respond(status: number, body?: string): void
}

/**
 * A webhook receiver on loopback that records every request. `answer` decides each reply: a
 * status, or 'hold' to keep the request open (the test answers it later, or never).
 */
export async function startReceiver(answer: (r: Received, index: number) => number | 'hold' = () => 200) {
  const received: Received[] = []
  const server = createServer((req, res: ServerResponse) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => {
      body += d
    })
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        respond: (status, text = 'ok') => {
          if (!res.writableEnded && !res.destroyed) res.writeHead(status).end(text)
        },
      }
      received.push(r)
      const decision = answer(r, received.length - 1)
      if (decision !== 'hold') r.respond(decision)
    })
    res.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  closers.push(close)
  return { url: `http://127.0.0.1:${port}`, received, close }
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers.splice(0)) await close()
})
