/**
 * A few lines instead of a framework. Text always goes in through text nodes, never innerHTML,
 * so payloads, error messages and names from the API cannot inject markup.
 */

export type Child = Node | string | number | null | undefined | false | Child[]

type Handler = (event: Event) => void
export type Props = Record<string, string | number | boolean | null | undefined | Handler>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue
      if (typeof value === 'function') {
        el.addEventListener(name.slice(2).toLowerCase(), value)
      } else if (name === 'class') {
        el.className = String(value)
      } else if (name === 'value' && 'value' in el) {
        ;(el as HTMLInputElement).value = String(value)
      } else if (name === 'checked' && 'checked' in el) {
        ;(el as HTMLInputElement).checked = Boolean(value)
      } else {
        el.setAttribute(name, value === true ? '' : String(value))
      }
    }
  }
  append(el, children)
  return el
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? text(child) : child)
  }
}

export function text(value: string | number): Text {
  return document.createTextNode(String(value))
}

const SVG = 'http://www.w3.org/2000/svg'

export function svg(tag: string, attrs: Record<string, string | number>, ...children: Node[]): SVGElement {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  for (const c of children) el.appendChild(c)
  return el
}

/**
 * Replaces a region's content after a refresh. Refreshes arrive while someone may be tabbing
 * through a table, so focus is carried over to the element with the same `data-key`.
 */
export function patch(region: Element, ...children: Child[]): void {
  const active = document.activeElement
  const key = active instanceof HTMLElement && region.contains(active) ? active.dataset.key : undefined
  region.replaceChildren()
  append(region, children)
  if (key) {
    const again = region.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)
    again?.focus({ preventScroll: true })
  }
}

let ids = 0
/** A document-unique id for label and caption references. */
export function uid(prefix: string): string {
  ids += 1
  return `${prefix}-${ids}`
}
