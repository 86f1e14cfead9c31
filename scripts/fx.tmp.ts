import { Agent, createServer, request } from 'node:http'

const server = createServer((req, res) => {
  let b = ''
  req.on('data', (d) => (b += d))
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end(b)
  })
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as any).port
const url = `http://127.0.0.1:${port}/x`
const body = JSON.stringify({
  outcomes: Array.from({ length: 16 }, (_, i) => ({
    execution_id: 'abcdefghij0123456789',
    lease_token: 'x'.repeat(34),
    success: true,
  })),
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
await time('fetch', () =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.json()),
)
const agent = new Agent({ keepAlive: true })
await time(
  'http.request',
  () =>
    new Promise((resolve) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          let t = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (t += d))
          res.on('end', () => resolve(JSON.parse(t)))
        },
      )
      req.end(body)
    }),
)
server.close()
process.exit(0)
