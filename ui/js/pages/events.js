// The engine's events as they happen (the SSE route read with fetch), newest first, and the
// audit trail for admins.
import { api, follow, enc } from '../api.js';
import { h, table, showError } from '../dom.js';

const MAX = 500;

export const events = {
  async render(ctx) {
    const list = h('ol', { class: 'events', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    const type = h(
      'select',
      { id: 'ev-type' },
      ['', 'container', 'image', 'network', 'volume'].map(t =>
        h('option', { value: t }, t || 'all'),
      ),
    );
    let ctl = null;
    const start = () => {
      if (ctl) ctl.abort();
      ctl = ctx.controller();
      list.replaceChildren();
      follow(
        '/v1/events' + (type.value ? '?type=' + enc(type.value) : ''),
        (name, e) => {
          list.prepend(
            h(
              'li',
              {},
              h('time', { datetime: e.time }, (e.time || '').replace('T', ' ')),
              ' ',
              h('strong', {}, `${e.type} ${e.action}`),
              ' ',
              e.name || (e.id || '').slice(0, 12),
            ),
          );
          while (list.childNodes.length > MAX) list.lastChild.remove();
        },
        ctl.signal,
      ).catch(e => {
        // Cut by the network (no answer from the server): follow again, from now.
        if (e.status === undefined && e.name !== 'AbortError')
          setTimeout(() => {
            if (!ctl.signal.aborted) start();
          }, 2000);
        else showError(e);
      });
    };
    type.addEventListener('change', start);
    ctx.main.append(
      h('h1', {}, 'Events'),
      h(
        'p',
        {},
        h('label', { for: 'ev-type' }, 'Type '),
        type,
        ' ',
        h('span', { class: 'help' }, 'Live: new events appear at the top.'),
      ),
      list,
    );
    start();
  },
};

export const audit = {
  role: 'admin',
  async render(ctx) {
    const t = table(
      'Audit trail (newest first)',
      [
        { key: 'seq', label: '#' },
        { key: 'time', label: 'Time' },
        { key: 'token', label: 'Token' },
        { key: 'role', label: 'Role' },
        { key: 'method', label: 'Method' },
        { key: 'route', label: 'Route' },
        { key: 'target', label: 'Target' },
        { key: 'status', label: 'Status' },
        {
          key: 'policy',
          label: 'Policy',
          value: r => {
            if (!r.policy) return '';
            const rule = r.policy.rule ? ` (${r.policy.rule})` : '';
            return `${r.policy.name} ${r.policy.decision}${rule}`;
          },
        },
      ],
      r => String(r.seq),
      { desc: true },
    );
    ctx.main.append(h('h1', {}, 'Audit'), t.el);
    ctx.every(10000, async () => t.update((await api('GET', '/v1/audit?limit=200')).records));
  },
};
