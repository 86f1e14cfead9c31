/**
 * The API key lives in sessionStorage only: it ends with the tab, never goes into a URL (so not
 * into history, logs or Referer headers), and is never written into the page.
 */
const KEY = 'cuekit.dashboard.apiKey'

export const API_KEY_PATTERN = /^cue_sk_[0-9a-f]{32}$/

export function storedKey(): string | null {
  try {
    const key = sessionStorage.getItem(KEY)
    return key && API_KEY_PATTERN.test(key) ? key : null
  } catch {
    return null
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key)
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(KEY)
  } catch {
    // Storage may be unavailable (privacy modes); there is nothing to forget then.
  }
}
