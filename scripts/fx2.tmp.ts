import { Agent, request } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono<{ Bindings: any }>()
app.post('/text', async (c) => c.json(JSON.parse(await c.req.text())))
app.post('/raw', async (c) => {
  const inc = c.env.incoming
  const chunks: Buffer[] = []
  for await (const d of inc) chunks.push(d)
  return c.json(JSON.parse(Buffer.concat(chunks).toString()))
})
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((r) => setTimeout(r, 200))
const port = (server.address() as any).port
const body = JSON.stringify({
  outcomes: Array.from({ length: 16 }, (_, i) => ({
    execution_id: 'abcdefghij0123456789',
    lease_token: 'x'.repeat(34),
    success: true,
  })),
})
const agent = new Agent({ keepAlive: true })
const post = (path: string) =>
  new Promise((resolve) => {
    const req = request(
      `http://127.0.0.1:${port}${path}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let t = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (t += d))
        res.on('end', () => resolve(JSON.parse(t)))
      },
    )
    req.end(body)
  })
async function time(label: string, fn: () => Promise<unknown>, n = 2000) {
  for (let i = 0; i < 200; i++) await fn()
  const cpu0 = process.cpuUsage()
  const t = performance.now()
  for (let i = 0; i < n; i++) await fn()
  const c = process.cpuUsage(cpu0)
  console.log(
    label.padEnd(16),
    (((performance.now() - t) / n) * 1000).toFixed(0),
    'us/req wall,',
    ((c.user + c.system) / n).toFixed(0),
    'us cpu (both ends)',
  )
}
await time('hono c.req.text', () => post('/text'))
await time('hono incoming', () => post('/raw'))
process.exit(0)
