// Images (with their last scan), networks and volumes: lists from the API, sortable.
import { api, enc } from '../api.js';
import { h, clear, bytes, ago, table, badge, notify, showError } from '../dom.js';

function listPage(title, path, cols, key, every = 10000) {
  return {
    async render(ctx) {
      const t = table(title, typeof cols === 'function' ? cols(ctx) : cols, key);
      ctx.main.append(h('h1', {}, title), t.el);
      ctx.every(every, async () => t.update(await api('GET', path)));
    },
  };
}

const tagOf = i => (i.tags && i.tags[0]) || i.id;

export const images = listPage(
  'Images',
  '/v1/images',
  [
    { key: 'tags', label: 'Tags', value: i => (i.tags || []).join(', ') || '<none>' },
    { key: 'id', label: 'Id', cell: i => i.id.replace('sha256:', '').slice(0, 12) },
    { key: 'size', label: 'Size', cell: i => bytes(i.size) },
    { key: 'created', label: 'Created', cell: i => ago(i.created) },
    {
      key: 'scan',
      label: 'Scan',
      sort: false,
      cell: i => h('a', { href: '#/scan/' + enc(tagOf(i)) }, 'scan results'),
    },
  ],
  i => i.id,
);

export const networks = listPage(
  'Networks',
  '/v1/networks',
  [
    { key: 'name', label: 'Name' },
    { key: 'driver', label: 'Driver' },
    { key: 'scope', label: 'Scope' },
    {
      key: 'subnets',
      label: 'Subnets',
      value: n => (n.subnets || []).map(s => s.subnet).join(', '),
    },
    { key: 'internal', label: 'Internal', value: n => (n.internal ? 'yes' : 'no') },
    { key: 'created', label: 'Created', cell: n => ago(n.created) },
  ],
  n => n.id,
);

export const volumes = listPage(
  'Volumes',
  '/v1/volumes',
  [
    { key: 'name', label: 'Name' },
    { key: 'driver', label: 'Driver' },
    { key: 'mountpoint', label: 'Mountpoint' },
    { key: 'created', label: 'Created', cell: v => ago(v.created) },
  ],
  v => v.name,
);

// An image's last scan result (GET /v1/images/{ref}/scan); operators may start one.
export const scan = {
  nav: 'images',
  async render(ctx) {
    const ref = ctx.params.join('/');
    const body = h('div');
    const path = `/v1/images/${ref.split('/').map(enc).join('/')}/scan`;
    const show = r =>
      clear(
        body,
        h(
          'p',
          {},
          `Scanner ${r.scanner} · digest ${r.digest || '–'} · `,
          Object.entries(r.summary || {}).map(([k, v]) => [badge(k.toLowerCase()), ` ${v} `]),
        ),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            {},
            h('caption', {}, `Vulnerabilities in ${ref}`),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Id', 'Severity', 'Package', 'Version', 'Fixed in', 'Summary'].map(x =>
                  h('th', { scope: 'col' }, x),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              (r.vulnerabilities || []).map(v =>
                h(
                  'tr',
                  {},
                  h('td', {}, v.id),
                  h('td', {}, badge(String(v.severity).toLowerCase())),
                  h('td', {}, v.package),
                  h('td', {}, v.version),
                  h('td', {}, v.fixed_version ?? '–'),
                  h('td', {}, v.summary ?? ''),
                ),
              ),
            ),
          ),
        ),
      );
    const btn = ctx.can('operator')
      ? h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              btn.disabled = true;
              try {
                show(await api('POST', path, { body: {} }));
                notify('Scan finished.', 'ok');
              } catch (e) {
                showError(e);
              }
              btn.disabled = false;
            },
          },
          'Scan now',
        )
      : null;
    ctx.main.append(h('div', { class: 'bar' }, h('h1', {}, `Scan of ${ref}`), btn), body);
    try {
      show(await api('GET', path));
    } catch (e) {
      if (e.status === 404) clear(body, h('p', { class: 'help' }, e.message));
      else throw e;
    }
  },
};
