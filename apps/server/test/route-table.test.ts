import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type HttpRoute, ROUTES, type RouteName } from '@cuekit/protocol'
import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'

// The protocol's route table is the one list of routes: the server registers each entry and the SDK
// client calls them. These checks keep a route from existing on one side only.

/** Routes the SDK client does not call, each with the reason. */
const SERVER_ONLY: Partial<Record<RouteName, string>> = {
  metrics: 'scraped by Prometheus, not called by applications',
  workersHeartbeat: 'an alias of /v1/worker/heartbeat (which the SDK calls) for clients that spell it plural',
  rotateWebhookSecret:
    'an alias of /v1/auth/webhook-secret/regenerate (which the SDK calls), from CueAPI docs',
}

const entries = Object.entries(ROUTES) as [RouteName, HttpRoute][]
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`

/** The names of the table entries the SDK's sources refer to (`ROUTES.name`). */
function routesUsedBySdk(): Set<string> {
  const src = fileURLToPath(new URL('../../../packages/sdk/src/', import.meta.url))
  const used = new Set<string>()
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) visit(path)
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/\bROUTES\.(\w+)/g)) used.add(m[1]!)
      }
    }
  }
  visit(src)
  return used
}

describe('the route table', () => {
  it('names each route once', () => {
    const keys = entries.map(([, r]) => key(r.method, r.path))
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('every entry is served, behind the auth it declares', async () => {
    const t = await makeApp()
    for (const [name, r] of entries) {
      const path = r.path.replace(/\{\w+\}/g, 'x')
      // No key at all: a guarded route refuses before reading anything, an unguarded one answers.
      const res = await t.cuekit.app.request(path, {
        method: r.method.toUpperCase(),
        headers: { 'content-type': 'application/json' },
        ...(r.method === 'get' ? {} : { body: '{}' }),
      })
      const what = `${name}: ${key(r.method, r.path)} answered ${res.status}`
      expect([404, 405], what).not.toContain(res.status)
      if (r.auth !== 'none') expect(res.status, what).toBe(401)
      if (r.auth === 'admin') {
        const tenantKey = await t.cuekit.app.request(path, {
          method: r.method.toUpperCase(),
          headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
          body: '{}',
        })
        expect(tenantKey.status, `${name} with a tenant key`).toBe(403)
      }
      await res.body?.cancel()
    }
  })

  it('the server serves no route of its own, and documents exactly the table', async () => {
    const t = await makeApp()
    const table = entries.map(([, r]) => key(r.method, r.path)).sort()
    const doc = (await (await t.cuekit.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => key(m, path)))
      .sort()
    expect(documented).toEqual(table)
    expect(t.cuekit.services.known).toHaveLength(table.length)
  })

  it('every entry is called by the SDK client, or is listed as server-only with a reason', () => {
    const used = routesUsedBySdk()
    for (const name of used) expect(Object.keys(ROUTES), `ROUTES.${name} in the SDK`).toContain(name)
    const unused = entries.map(([name]) => name).filter((name) => !used.has(name))
    expect(unused.sort()).toEqual(Object.keys(SERVER_ONLY).sort())
    for (const reason of Object.values(SERVER_ONLY)) expect(reason.length).toBeGreaterThan(10)
  })
})
