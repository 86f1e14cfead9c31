import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type ServerProcess, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The API docs page in Debian's chromium with every other host cut off: Swagger UI must come from
// the server itself and render the operations of /openapi.json.

const CHROMIUM = '/usr/bin/chromium'
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const artifacts = `${repoRoot}artifacts/e2e`

let server: ServerProcess
let browser: Browser

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the e2e tests drive Debian's chromium (apt-get install chromium).`,
    )
  }
  mkdirSync(artifacts, { recursive: true })
  server = await startServerProcess()
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

describe('API docs in chromium, offline', () => {
  it('renders the operations of /openapi.json from assets the server serves', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
    context.setDefaultTimeout(15_000)
    const origin = new URL(server.url).origin
    // The network, as far as this page knows, is our server and nothing else.
    const elsewhere: string[] = []
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue()
      elsewhere.push(url)
      return route.abort('internetdisconnected')
    })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(String(e)))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    const failed: string[] = []
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`))

    await page.goto(`${server.url}/docs`)
    await page.locator('.information-container .title').filter({ hasText: 'Cuekit' }).waitFor()
    const claim = page.locator('.opblock-post', { hasText: '/v1/executions/claim' }).first()
    await claim.waitFor()
    const operations = await page.locator('.opblock').count()
    expect(operations, 'every operation is listed').toBeGreaterThan(30)
    await page.screenshot({ path: `${artifacts}/docs.png` })
    // Expanding an operation shows its request body schema, read from the document.
    await claim.locator('.opblock-summary').click()
    await claim.getByText('worker_id').first().waitFor()
    await claim.getByRole('button', { name: 'Try it out' }).click()
    await claim.getByRole('button', { name: 'Execute' }).waitFor()
    await page.screenshot({ path: `${artifacts}/docs-claim.png` })

    expect(elsewhere, 'requests to another host').toEqual([])
    expect(failed).toEqual([])
    expect(problems, 'console errors (a CSP violation shows here)').toEqual([])
    await context.close()
  }, 90_000)
})
