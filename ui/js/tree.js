// A JSON document as a collapsible tree of <details>: keyboard-operable (summary elements are
// focusable), values as text. Secrets are whatever the API showed this role.
import { h } from './dom.js';

export function tree(value, name = 'document', depth = 0) {
  if (value === null || typeof value !== 'object') {
    return h(
      'div',
      { class: 'leaf' },
      h('span', { class: 'k' }, name + ': '),
      h(
        'span',
        { class: 'v t-' + (value === null ? 'null' : typeof value) },
        JSON.stringify(value),
      ),
    );
  }
  const keys = Object.keys(value);
  const kind = Array.isArray(value) ? `[${keys.length}]` : `{${keys.length}}`;
  return h(
    'details',
    { open: depth < 1 },
    h('summary', {}, h('span', { class: 'k' }, name), ' ', h('span', { class: 'help' }, kind)),
    h(
      'div',
      { class: 'kids' },
      keys.map(k => tree(value[k], k, depth + 1)),
    ),
  );
}
