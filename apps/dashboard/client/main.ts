import './styles.css'
import type { ListAlertsResponse, MeResponse } from '@cuekit/protocol'
import { type Api, ApiError, createApi } from './api.ts'
import { h, patch } from './dom.ts'
import { LiveEvents, type LiveState } from './live.ts'
import type { Page, PageFactory } from './page.ts'
import { ServerClock } from './page.ts'
import { AlertCount, alertsPage } from './pages/alerts.ts'
import { cuePage } from './pages/cue.ts'
import { cuesPage } from './pages/cues.ts'
import { executionPage } from './pages/execution.ts'
import { executionsPage } from './pages/executions.ts'
import { failedPage } from './pages/failed.ts'
import { leasesPage } from './pages/leases.ts'
import { overviewPage } from './pages/overview.ts'
import { workersPage } from './pages/workers.ts'
import { Refresher } from './refresher.ts'
import { API_KEY_PATTERN, forgetKey, storedKey, storeKey } from './session.ts'
import { errorBox, tickTimes } from './ui.ts'

const NAV: { name: string; label: string; page: PageFactory }[] = [
  { name: '', label: 'Overview', page: overviewPage },
  { name: 'leases', label: 'Leases', page: leasesPage },
  { name: 'workers', label: 'Workers', page: workersPage },
  { name: 'executions', label: 'Executions', page: executionsPage },
  { name: 'failed', label: 'Failed', page: failedPage },
  { name: 'alerts', label: 'Alerts', page: alertsPage },
  { name: 'cues', label: 'Cues', page: cuesPage },
]
const POLL_MS = 5000

const root = document.getElementById('app')!
const announcer = h('div', {
  class: 'visually-hidden',
  role: 'status',
  'aria-live': 'polite',
  'aria-atomic': 'true',
})

let toastTimer: ReturnType<typeof setTimeout> | undefined

/** Read out politely, and shown for a while for sighted users (the toast is hidden from readers). */
function announce(message: string, visible = true): void {
  // Cleared first so the same message twice is read twice.
  announcer.textContent = ''
  setTimeout(() => {
    announcer.textContent = message
  }, 50)
  const toast = document.getElementById('toast')
  if (!toast || !visible) return
  toast.textContent = message
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => {
    toast.textContent = ''
  }, 10_000)
}

function parseRoute(): { name: string; rest: string[]; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, '')
  const [path = '', query = ''] = hash.split('?', 2)
  const [name = '', ...rest] = path.split('/').filter(Boolean)
  return { name, rest, params: new URLSearchParams(query) }
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message?: string): void {
  document.title = 'Sign in · Cuekit'
  const input = h('input', {
    id: 'api-key',
    name: 'api_key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    required: true,
    'aria-describedby': 'api-key-hint',
  })
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' })
  const submit = h('button', { type: 'submit' }, 'Sign in')
  const fail = (text: string) => {
    error.textContent = text
    input.setAttribute('aria-invalid', 'true')
    input.focus()
  }
  const form = h(
    'form',
    {
      class: 'signin-form',
      // POST and no action: should the script ever not intercept, the key still stays out of the URL.
      method: 'post',
      onSubmit: async (e: Event) => {
        e.preventDefault()
        const key = input.value.trim()
        if (!API_KEY_PATTERN.test(key)) {
          fail('That is not a tenant API key: it looks like cue_sk_ followed by 32 hex characters.')
          return
        }
        submit.disabled = true
        error.textContent = ''
        try {
          const me = await createApi(key, () => {}).get<MeResponse>('/v1/auth/me')
          storeKey(key)
          input.value = ''
          startApp(key, me)
        } catch (err) {
          submit.disabled = false
          fail(
            err instanceof ApiError && err.status === 401
              ? 'This key was refused. Check that it is a current tenant key (not the admin key).'
              : `Could not reach the server: ${err instanceof Error ? err.message : String(err)}`,
          )
        }
      },
    },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'api-key-hint', class: 'hint' },
      "A tenant key (cue_sk_…). It is kept in this tab's session storage only and sent only in the Authorization header.",
    ),
    error,
    submit,
  )
  patch(
    root,
    h(
      'main',
      { id: 'main', class: 'signin' },
      h('h1', null, 'Cuekit dashboard'),
      message ? h('p', { class: 'notice', role: 'status' }, message) : null,
      form,
    ),
    announcer,
  )
  input.focus()
}

// ---------------------------------------------------------------- the signed-in shell

let teardown: (() => void) | null = null

function signOut(message?: string): void {
  teardown?.()
  teardown = null
  forgetKey()
  showSignIn(message)
}

function startApp(apiKey: string, me: MeResponse | null): void {
  teardown?.()
  let unauthorized = false
  const api: Api = createApi(apiKey, () => {
    if (unauthorized) return
    unauthorized = true
    // Later, so the failing request's caller finishes before the page goes away.
    setTimeout(() => signOut('Your API key was refused (revoked or regenerated). Sign in again.'), 0)
  })
  const clock = new ServerClock()
  const live = new LiveEvents(api)
  const alertCount = new AlertCount(() =>
    api.get<ListAlertsResponse>('/v1/alerts', { acknowledged: 'false', limit: 1 }),
  )

  const navList = h('ul')
  const connection = h('span', { class: 'connection', 'data-state': 'connecting' }, 'Connecting…')
  const tenant = h('span', { class: 'tenant' })
  const main = h('main', { id: 'main', tabindex: -1 })
  const skip = h(
    'a',
    {
      class: 'skip-link',
      href: '#main',
      onClick: (e: Event) => {
        // The hash is the router's; move focus without navigating.
        e.preventDefault()
        ;(main.querySelector<HTMLElement>('h1') ?? main).focus()
      },
    },
    'Skip to content',
  )
  const header = h(
    'header',
    { class: 'top' },
    h('p', { class: 'brand' }, h('a', { href: '#/' }, 'Cuekit')),
    h('nav', { 'aria-label': 'Dashboard pages' }, navList),
    h(
      'div',
      { class: 'session' },
      connection,
      tenant,
      h('button', { type: 'button', class: 'secondary', onClick: () => signOut('Signed out.') }, 'Sign out'),
    ),
  )
  const toast = h('p', { id: 'toast', class: 'toast', 'aria-hidden': 'true' })
  patch(root, skip, header, main, h('footer', { class: 'foot' }, toast), announcer)
  if (me) tenant.textContent = me.name ?? me.email ?? me.tenant_id
  else {
    api
      .get<MeResponse>('/v1/auth/me')
      .then((m) => {
        tenant.textContent = m.name ?? m.email ?? m.tenant_id
      })
      .catch(() => {})
  }

  let page: Page | null = null
  let refresher: Refresher | null = null
  let routeKey = ''
  // Set while a page sends the viewer on (a replay opens its new execution): its message goes along.
  let carryToast = false

  const route = () => {
    const r = parseRoute()
    const key = location.hash
    if (key === routeKey && page) return
    const first = routeKey === ''
    routeKey = key
    // A message about the page being left would read as one about the next ("Not approved" on a cue).
    if (!carryToast) toast.textContent = ''
    carryToast = false
    page?.dispose?.()
    refresher?.stop()
    // A row's own page lives under its list's name: #/executions/<id>, #/cues/<id>, #/cues/new.
    const detail: Record<string, PageFactory> = { executions: executionPage, cues: cuePage }
    const entry =
      r.rest.length > 0 && detail[r.name]
        ? { name: r.name, page: detail[r.name]! }
        : NAV.find((n) => n.name === r.name)
    patch(
      navList,
      NAV.map((n) =>
        h(
          'li',
          null,
          h(
            'a',
            { href: `#/${n.name}`, 'aria-current': entry?.name === n.name ? 'page' : null },
            n.label,
            n.page === alertsPage ? alertCount.el : null,
          ),
        ),
      ),
    )
    if (!entry) {
      page = null
      patch(main, h('h1', { tabindex: -1 }, 'Not found'), errorBox(`No page ${location.hash}.`))
      return
    }
    const status = h('div', { class: 'load-state' })
    // The page is created after its refresher (it asks the refresher for early refreshes).
    let current: Page | null = null
    const pageRefresher = new Refresher(() => current?.refresh() ?? Promise.resolve(), {
      get liveMs() {
        return current?.liveIntervalMs ?? 15_000
      },
      pollMs: POLL_MS,
      isLive: () => live.state === 'live',
      onError: (error) => {
        patch(
          status,
          errorBox(
            `Could not load: ${error instanceof Error ? error.message : String(error)}. Retrying with backoff.`,
          ),
        )
      },
      onSuccess: () => {
        if (status.firstChild) patch(status)
        tickTimes(main, clock.now())
      },
    })
    refresher = pageRefresher
    current = entry.page({
      api,
      clock,
      params: r.params,
      rest: r.rest,
      isLive: () => live.state === 'live',
      announce,
      navigate: (hash) => {
        // The same route again (filters unchanged) just refreshes.
        if (location.hash === hash) pageRefresher.soon(0)
        else {
          carryToast = true
          location.hash = hash
        }
      },
      refresher: pageRefresher,
    })
    page = current
    document.title = `${current.title} · Cuekit`
    patch(main, status, current.view)
    pageRefresher.start()
    // Focus follows navigation (not the first load), so screen readers hear the new page's title.
    if (!first) main.querySelector<HTMLElement>('h1')?.focus()
  }

  const showState = (state: LiveState) => {
    connection.dataset.state = state
    connection.textContent =
      state === 'live' ? 'Live' : state === 'polling' ? `Polling every ${POLL_MS / 1000} s` : 'Connecting…'
    connection.title =
      state === 'live'
        ? 'Updates arrive over the event stream.'
        : state === 'polling'
          ? 'The event stream is unavailable; pages re-read the API on a timer and the stream is retried with backoff.'
          : ''
  }
  let announcedState: LiveState = 'connecting'
  live.onState((state) => {
    showState(state)
    if (
      (state === 'polling' && announcedState === 'live') ||
      (state === 'live' && announcedState === 'polling')
    ) {
      announce(state === 'live' ? 'Live updates resumed.' : 'Live updates unavailable; polling.')
    }
    announcedState = state
    refresher?.soon(0)
  })
  live.onEvent((event) => {
    if (page?.onEvent?.(event)) refresher?.soon()
    alertCount.soon()
  })

  const ticker = setInterval(() => tickTimes(main, clock.now()), 1000)
  window.addEventListener('hashchange', route)
  teardown = () => {
    live.stop()
    alertCount.stop()
    refresher?.stop()
    page?.dispose?.()
    clearInterval(ticker)
    window.removeEventListener('hashchange', route)
  }
  live.start()
  alertCount.start()
  route()
}

const key = storedKey()
if (key) startApp(key, null)
else showSignIn()
