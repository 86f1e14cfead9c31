import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const protocolWebhook = fileURLToPath(new URL('../../protocol/src/webhook.ts', import.meta.url))

/** Top-level exported declarations of a file: name → whether its TSDoc has an @example. */
function declarations(file: string): Map<string, boolean> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const found = new Map<string, boolean>()
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement)
      ? ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false
    if (!exported) continue
    const hasExample = ts.getJSDocTags(statement).some((t) => t.tagName.text === 'example')
    const names = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) => d.name.getText(source))
      : [(statement as ts.DeclarationStatement).name?.getText(source) ?? '']
    for (const name of names) found.set(name, (found.get(name) ?? false) || hasExample)
  }
  return found
}

/**
 * Public names re-exported by an index file (`export { a, type b } from './x.ts'` and
 * `export type * from './y.ts'`) whose declaration has no TSDoc `@example`. Syntactic only, so it
 * stays fast: no type checker, no dependency types.
 */
function undocumented(index: string): string[] {
  const source = ts.createSourceFile(index, readFileSync(index, 'utf8'), ts.ScriptTarget.ES2022, true)
  const missing: string[] = []
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier) continue
    const from = fileURLToPath(
      new URL((statement.moduleSpecifier as ts.StringLiteral).text, `file://${index}`),
    )
    const found = declarations(from)
    const clause = statement.exportClause
    const names =
      clause && ts.isNamedExports(clause)
        ? clause.elements.map((e) => (e.propertyName ?? e.name).text)
        : [...found.keys()]
    for (const name of names) if (!found.get(name)) missing.push(name)
  }
  return missing.sort()
}

describe('documentation', () => {
  it('every public export of @cuekit/sdk has TSDoc with an @example', () => {
    expect(undocumented(entry)).toEqual([])
  })

  it('pythonJsonDumps is documented with an example too', () => {
    expect(declarations(protocolWebhook)).toEqual(new Map([['pythonJsonDumps', true]]))
  })

  it("the README's quick start uses only exported names", () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
    const imports = [...readme.matchAll(/import \{([^}]+)\} from '@cuekit\/sdk'/g)].flatMap((m) =>
      (m[1] ?? '').split(',').map((s) => s.replace(/^\s*type\s+/, '').trim()),
    )
    expect(imports.length).toBeGreaterThan(0)
    const source = readFileSync(entry, 'utf8')
    for (const name of imports.filter(Boolean)) expect(source, name).toMatch(new RegExp(`\\b${name}\\b`))
  })
})
