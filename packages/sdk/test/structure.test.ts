import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src/', import.meta.url))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The files of this package a file imports (type-only imports too: a cycle of types is one to read). */
function localImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name))
}

/** Every import cycle of a graph (file → the files it imports), each as the files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'closed'>()
  const path: string[] = []
  const visit = (file: string) => {
    state.set(file, 'open')
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push(path.slice(path.indexOf(next)))
      else if (!state.has(next)) visit(next)
    }
    path.pop()
    state.set(file, 'closed')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file)
  return found
}

describe('the shape of @cuekit/sdk', () => {
  const files = sourceFiles(src)

  it('no source file is over 600 lines', () => {
    const long = files
      .map((f) => [relative(src, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 600)
    expect(long).toEqual([])
  })

  it('no import cycle', () => {
    const graph = new Map(files.map((f) => [f, localImports(f)]))
    expect(graph.get(join(src, 'worker.ts'))).toContain(join(src, 'worker/claimer.ts'))
    expect(cycles(graph).map((cycle) => cycle.map((f) => relative(src, f)))).toEqual([])
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
