import { Agent, request } from 'node:http'

const agent = new Agent({ keepAlive: true })

/**
 * A tiny JSON client for the bench: the tenant's key on every request, errors thrown. On
 * `node:http` with keep-alive, like the SDK, so the load generator costs the machine little.
 */
export function api(baseUrl: string, apiKey: string) {
  return <T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const req = request(
        `${baseUrl}${path}`,
        {
          method,
          agent,
          signal,
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            text += chunk
          })
          res.on('end', () => {
            const status = res.statusCode ?? 0
            if (status < 200 || status >= 300) {
              reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 300)}`))
            } else {
              resolve((text ? JSON.parse(text) : null) as T)
            }
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body === undefined ? undefined : JSON.stringify(body))
    })
}

export type Api = ReturnType<typeof api>

/** Enqueues `n` executions of `task` through the bulk endpoint, 1,000 per request. */
export async function bulkEnqueue(call: Api, n: number, task: string, payload: unknown = {}): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const size = Math.min(1000, n - i)
    await call('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: size }, () => ({ task, payload })),
    })
  }
}
