import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The repository documents itself: nothing in it points at files outside a clone, and the links
// and section references inside it lead somewhere.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter((path) => path && existsSync(join(repoRoot, path)))

const texts = new Map<string, string>()
for (const path of tracked) {
  const buffer = readFileSync(join(repoRoot, path))
  if (!buffer.includes(0)) texts.set(path, buffer.toString('utf8'))
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')

function anchorsOf(path: string): Set<string> {
  const text = texts.get(path) ?? ''
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, '')
  return new Set([...withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)))
}

describe('the repository points only inside itself', () => {
  it('has files to check (a git checkout)', () => {
    expect(tracked.length).toBeGreaterThan(50)
    expect(texts.has('docs/architecture.md')).toBe(true)
  })

  it('mentions no document outside the repository', () => {
    // Built from parts so that this file does not match itself.
    const outside = [['..', 'shared', ''].join('/'), ['DESIGN', 'md'].join('.'), ['DESIGN', '§'].join(' ')]
    const found: string[] = []
    for (const [path, text] of texts) {
      for (const needle of outside) {
        if (text.includes(needle)) found.push(`${path}: ${needle}`)
      }
    }
    expect(found).toEqual([])
  })

  it('every relative link in a markdown file leads to a tracked file, and its anchor to a heading', () => {
    const broken: string[] = []
    for (const [path, text] of texts) {
      if (!path.endsWith('.md')) continue
      const prose = text.replace(/^```[\s\S]*?^```/gm, '')
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue
        const [file, anchor] = target!.split('#') as [string, string | undefined]
        const resolved = file ? normalize(join(dirname(path), file)).replace(/\/$/, '') : path
        const exists =
          texts.has(resolved) || tracked.some((t) => t === resolved || t.startsWith(`${resolved}/`))
        if (!exists) broken.push(`${path}: ${target} (no such file)`)
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
          broken.push(`${path}: ${target} (no such heading)`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  it('every section of docs/architecture.md named in code or docs exists', () => {
    const sections = anchorsOf('docs/architecture.md')
    const missing: string[] = []
    for (const [path, text] of texts) {
      for (const [, anchor] of text.matchAll(/architecture\.md#([\w-]+)/g)) {
        if (!sections.has(anchor!)) missing.push(`${path}: #${anchor}`)
      }
    }
    expect(missing).toEqual([])
  })
})
