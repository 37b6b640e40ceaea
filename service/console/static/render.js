// DOM helpers of the console: every value is set as text, never parsed as HTML.

/** An element with attributes (`class`, `for`, `data-*`, boolean `hidden`...) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false || value === null) continue;
    if (name === 'onclick') el.addEventListener('click', value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child !== undefined && child !== null && child !== false) el.append(child);
  }
}

/**
 * A semantic table: a caption, column headers with `scope="col"`, the first cell of each row a
 * row header.
 */
export function table(caption, headers, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', {}, `${caption}: ${empty}`);
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c))),
        ),
      ),
    ),
  );
}

/** A `<time>` in the reader's locale, with the ISO instant as its machine value. */
export function when(iso) {
  if (iso === undefined || iso === null) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

/** An identifier in monospace. */
export const id = (text) => h('span', { class: 'id' }, text ?? '—');

/** Pretty JSON in a `<pre>`, behind a disclosure. */
export function json(summary, value) {
  return h('details', {}, h('summary', {}, summary), h('pre', {}, JSON.stringify(value, null, 2)));
}

/** A definition list of [term, description] pairs (undefined descriptions are left out). */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, d]) => d !== undefined).map(([t, d]) => [h('dt', {}, t), h('dd', {}, d)]),
  );
}
