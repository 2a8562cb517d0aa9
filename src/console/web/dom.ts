/** A tiny element builder: plain DOM, no framework. `on…` attributes become listeners. */
export type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | ((event: Event) => void) | undefined;

function apply(element: Element, attrs: Readonly<Record<string, Attr>>, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, Attr>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attrs, children);
  return element;
}

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, Attr>> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  apply(element, attrs, children);
  return element;
}

/** A labelled table; wide ones scroll inside their box on narrow screens. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A modal dialog (native <dialog>: focus moves in, Escape closes); resolves with the button pressed. */
export function confirmDialog(options: {
  readonly title: string;
  readonly body: readonly Child[];
  readonly confirm: string;
  readonly danger?: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, options.title),
      ...options.body,
    );
    const finish = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => finish(false) }, 'Cancel'),
        h(
          'button',
          {
            type: 'button',
            class: options.danger === true ? 'danger' : 'primary',
            onclick: () => finish(true),
          },
          options.confirm,
        ),
      ),
    );
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A status message for screen readers and eyes: replaces the region's content. */
export function say(region: HTMLElement, message: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
  region.replaceChildren(h('p', { class: `note ${kind}` }, message));
}
