import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  ATTEMPT_END,
  AttemptEnd,
  EXECUTION_STATUS,
  EXECUTION_STATUSES,
  ExecutionStatus,
  isTerminal,
  TERMINAL_STATUSES,
  WORKER_STATE,
  WORKER_STATES,
  WorkerState,
} from '@cuekit/protocol'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const file = fileURLToPath(new URL('../src/lifecycle.ts', import.meta.url))
const architecture = fileURLToPath(new URL('../../../docs/architecture.md', import.meta.url))

/** Each property of an exported `const NAME = { ... }` in lifecycle.ts, with its doc comment. */
function documented(name: string): Map<string, string> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const found = new Map<string, string>()
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && node.name.getText(source) === name && node.initializer) {
      const literal = ts.isAsExpression(node.initializer) ? node.initializer.expression : node.initializer
      if (ts.isObjectLiteralExpression(literal)) {
        for (const p of literal.properties) {
          const doc = ts
            .getJSDocCommentsAndTags(p)
            .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
            .join(' ')
          found.set(p.name!.getText(source), doc)
        }
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the lifecycle lists', () => {
  it('each execution status says what moves an execution out of it', () => {
    const docs = documented('EXECUTION_STATUS')
    expect([...docs.keys()]).toEqual(Object.keys(EXECUTION_STATUS))
    for (const [status, doc] of docs) {
      expect(doc, status).toMatch(isTerminal(status as ExecutionStatus) ? /replay/ : /Leaves by/)
    }
  })

  it('each attempt end and worker state is documented', () => {
    for (const [name, values] of [
      ['ATTEMPT_END', ATTEMPT_END],
      ['WORKER_STATE', WORKER_STATE],
    ] as const) {
      const docs = documented(name)
      expect([...docs.keys()]).toEqual(Object.keys(values))
      for (const [value, doc] of docs) expect(doc.length, `${name}.${value}`).toBeGreaterThan(20)
    }
  })

  it('the schemas are built from the lists, and keys are the values', () => {
    expect(ExecutionStatus.options).toEqual(EXECUTION_STATUSES)
    expect(AttemptEnd.options).toEqual(Object.values(ATTEMPT_END))
    expect(WorkerState.options).toEqual(Object.values(WORKER_STATE))
    expect(WORKER_STATES).toEqual(WorkerState.options)
    for (const list of [EXECUTION_STATUS, ATTEMPT_END, WORKER_STATE]) {
      for (const [key, value] of Object.entries(list)) expect(value).toBe(key)
    }
    expect(TERMINAL_STATUSES).toEqual(['success', 'failed', 'cancelled'])
  })

  it('docs/architecture.md lists the same statuses, in the same order', () => {
    const text = readFileSync(architecture, 'utf8')
    const table = text.slice(text.indexOf('### Execution statuses'), text.indexOf('## Leases'))
    const rows = [...table.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1])
    expect(rows).toEqual(EXECUTION_STATUSES)
  })
})
