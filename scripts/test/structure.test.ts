import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ATTEMPT_END, EXECUTION_STATUSES, WORKER_STATES } from '@cuekit/protocol'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The shape of the whole repository (issue 14): no import cycle inside a package, no cycle between
// packages, and no source file a reader cannot hold in mind at once.

const root = fileURLToPath(new URL('../../', import.meta.url))
const MAX_LINES = 600

/**
 * Files over the limit today whose owners are splitting them (issue 14): each entry goes when its
 * file is back under the limit, and the test fails if it stays after that.
 */
const KNOWN_LONG: Record<string, string> = {}

const CODE = /\.(ts|tsx|mts|mjs|js)$/
const SOURCE = /\.(ts|tsx|mts|mjs|js|lua|css)$/

/** The source files below a folder: no tests, no build output, no dependencies. */
function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      return ['node_modules', 'dist', 'test', 'artifacts'].includes(entry.name) ? [] : sourceFiles(path)
    }
    return SOURCE.test(entry.name) && !/\.test\.\w+$/.test(entry.name) ? [path] : []
  })
}

/** Each workspace package: its name and its folder. */
function workspacePackages(): { name: string; dir: string }[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    workspaces: string[]
  }
  return workspaces.map((w) => ({
    name: (JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')) as { name: string }).name,
    dir: join(root, w),
  }))
}

/** Every module a file names (type-only imports, re-exports and dynamic imports too). */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName)
}

/** Every import cycle of a graph (file → the files it imports), each as the files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'closed'>()
  const path: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push(path.slice(path.indexOf(next)))
      else if (!state.has(next)) visit(next)
    }
    path.pop()
    state.set(node, 'closed')
  }
  for (const node of graph.keys()) if (!state.has(node)) visit(node)
  return found
}

/**
 * Where a text spells three or more values of a list one after another, as an array of strings or
 * as an object's keys (the line of each): a copy of the list that can drift from it.
 */
function spelledLists(text: string, values: readonly string[]): number[] {
  const alt = values.join('|')
  const patterns = [
    new RegExp(`\\[\\s*(?:['"](?:${alt})['"]\\s*,\\s*){2,}['"](?:${alt})['"]`, 'g'),
    new RegExp(`(?:\\b(?:${alt})\\s*:\\s*[^,\\n]+,\\s*){3,}`, 'g'),
  ]
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => text.slice(0, m.index).split('\n').length))
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)

describe('the shape of the repository', () => {
  const packages = workspacePackages().filter((p) => /^(packages|apps)\//.test(relative(root, p.dir)))
  const files = packages.flatMap((p) => sourceFiles(p.dir))
  const code = files.filter((f) => CODE.test(f))
  const rel = (f: string) => relative(root, f)

  it('sees every package and its files', () => {
    expect(packages.map((p) => p.name).sort()).toEqual([
      '@cuekit/dashboard',
      '@cuekit/engine',
      '@cuekit/protocol',
      '@cuekit/sdk',
      '@cuekit/server',
    ])
    const seen = files.map(rel)
    for (const f of [
      'packages/sdk/src/worker.ts',
      'apps/dashboard/client/main.ts',
      'apps/dashboard/client/styles.css',
      'packages/engine/src/lua/claim.lua',
      'apps/server/start.mjs',
    ]) {
      expect(seen).toContain(f)
    }
    expect(seen.filter((f) => /\/test\/|\.test\./.test(f))).toEqual([])
  })

  it(`no source file is over ${MAX_LINES} lines, except the known ones being split`, () => {
    const long = Object.fromEntries(
      files
        .map((f) => [rel(f), lineCount(readFileSync(f, 'utf8'))] as const)
        .filter(([, lines]) => lines > MAX_LINES),
    )
    expect(Object.keys(long).sort()).toEqual(Object.keys(KNOWN_LONG).sort())
  })

  it('no import cycle inside any package, type imports included', () => {
    const graph = new Map<string, string[]>()
    const unresolved: string[] = []
    for (const file of code) {
      const local = specifiers(file)
        .filter((s) => s.startsWith('.'))
        .map((s) => [s, resolve(dirname(file), s)] as const)
      for (const [s, target] of local) if (!existsSync(target)) unresolved.push(`${rel(file)}: ${s}`)
      graph.set(
        file,
        local.map(([, target]) => target),
      )
    }
    // Every relative import names a file as it is on disk, so the graph misses no edge.
    expect(unresolved).toEqual([])
    expect(graph.get(join(root, 'packages/sdk/src/worker.ts'))).toContain(
      join(root, 'packages/sdk/src/worker/claimer.ts'),
    )
    expect(cycles(graph).map((cycle) => cycle.map(rel))).toEqual([])
  })

  it('no cycle between packages', () => {
    const names = new Set(workspacePackages().map((p) => p.name))
    const graph = new Map<string, string[]>()
    for (const p of packages) {
      const uses = new Set<string>()
      for (const file of sourceFiles(p.dir).filter((f) => CODE.test(f))) {
        for (const s of specifiers(file)) {
          const name = s.split('/').slice(0, 2).join('/')
          if (names.has(name) && name !== p.name) uses.add(name)
        }
      }
      graph.set(p.name, [...uses])
    }
    expect(graph.get('@cuekit/server')).toContain('@cuekit/engine')
    expect(cycles(graph)).toEqual([])
  })

  it('the lifecycle lists are spelled once, in packages/protocol/src/lifecycle.ts', () => {
    const lists = {
      'execution statuses': EXECUTION_STATUSES,
      'attempt ends': Object.values(ATTEMPT_END),
      'worker states': WORKER_STATES,
    }
    const copies: string[] = []
    for (const file of code.filter((f) => !f.endsWith('packages/protocol/src/lifecycle.ts'))) {
      const text = readFileSync(file, 'utf8')
      for (const [what, values] of Object.entries(lists)) {
        for (const at of spelledLists(text, values)) copies.push(`${rel(file)}:${at}: ${what}`)
      }
    }
    expect(copies).toEqual([])
    expect(spelledLists("const S = ['pending', 'failed', 'success']", EXECUTION_STATUSES)).toEqual([1])
    expect(
      spelledLists('q = {\n  pending: 0,\n  scheduled: 0,\n  failed: 0,\n}', EXECUTION_STATUSES),
    ).toEqual([2])
    expect(spelledLists("if (s === 'pending' || s === 'failed')", EXECUTION_STATUSES)).toEqual([])
  })

  it('the cycle check sees a cycle', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ])
    expect(cycles(graph)).toEqual([['a', 'b', 'c']])
  })
})
