// Containers: the list (filter by name, label, project; sort by any column), a CPU and a memory
// sparkline per running row in view, and the actions by role. The sparklines of all rows come
// from ONE /v1/metrics request per second, naming the running containers in view, carrying
// since= (only newer points come back) and If-None-Match (a 304 when nothing changed).
import { api, getIfChanged, enc } from '../api.js';
import { h, clear, badge, ports, table } from '../dom.js';
import { sparkline, registry } from '../charts.js';
import { containerActions } from '../actions.js';

const PROJECT = 'com.docker.compose.project';
const KEEP = 30; // points per sparkline
const FIRST = 12; // points asked for a row new in view (each is ~270 bytes of JSON)

function labelMatch(labels, f) {
  if (!f) return true;
  const i = f.indexOf('=');
  const k = i < 0 ? f : f.slice(0, i);
  const v = i < 0 ? undefined : f.slice(i + 1);
  return labels && k in labels && (v === undefined || labels[k] === v);
}

export const containers = {
  async render(ctx) {
    let list = [],
      since = null,
      etag = null,
      asked = '';
    const skip = new Map(); // id -> until when: running but not (yet, or any more) sampled
    const series = (registry.sparks = {});
    const name = h('input', { id: 'f-name', type: 'search', placeholder: 'part of a name' });
    const label = h('input', { id: 'f-label', type: 'search', placeholder: 'key or key=value' });
    const project = h('select', { id: 'f-project' }, h('option', { value: '' }, 'all'));
    const all = h('input', { id: 'f-all', type: 'checkbox', checked: true });
    const count = h('p', { class: 'help', 'aria-live': 'polite' });
    const spark = (id, key, lbl, floor) => sparkline(lbl, series[id]?.[key] || [], floor);
    const t = table(
      'Containers',
      [
        { key: 'name', label: 'Name', cell: c => h('a', { href: '#/c/' + enc(c.id) }, c.name) },
        { key: 'image', label: 'Image' },
        { key: 'state', label: 'State', cell: c => badge(c.state) },
        { key: 'health', label: 'Health', cell: c => badge(c.health) },
        { key: 'ports', label: 'Ports', value: c => ports(c.ports), cell: c => ports(c.ports) },
        {
          key: 'project',
          label: 'Project',
          value: c => c.labels?.[PROJECT] || '',
          cell: c => c.labels?.[PROJECT] || '',
        },
        {
          key: 'cpu',
          label: 'CPU',
          live: true,
          value: c => last(series[c.id]?.cpu),
          cell: c => spark(c.id, 'cpu', `CPU % of ${c.name}`, 1),
        },
        {
          key: 'mem',
          label: 'Memory',
          live: true,
          value: c => last(series[c.id]?.mem),
          cell: c => spark(c.id, 'mem', `memory bytes of ${c.name}`, 1),
        },
        ...(ctx.can('operator')
          ? [
              {
                key: 'actions',
                label: 'Actions',
                sort: false,
                cell: c => containerActions(ctx, c, refresh),
              },
            ]
          : []),
      ],
      c => c.id,
    );
    function last(a) {
      return a && a.length ? a[a.length - 1] : -1;
    }
    function shown() {
      const n = name.value.trim().toLowerCase(),
        p = project.value,
        l = label.value.trim();
      return list.filter(
        c =>
          (!n || c.name.toLowerCase().includes(n)) &&
          labelMatch(c.labels, l) &&
          (!p || c.labels?.[PROJECT] === p),
      );
    }
    function draw() {
      const rows = shown();
      t.update(rows);
      count.textContent = `${rows.length} of ${list.length} containers`;
    }
    async function refresh() {
      list = await api('GET', '/v1/containers' + (all.checked ? '?all=true' : ''));
      t.el.dataset.query = all.checked ? 'all=true' : '';
      const projects = [...new Set(list.map(c => c.labels?.[PROJECT]).filter(Boolean))].sort();
      const keep = project.value;
      clear(
        project,
        h('option', { value: '' }, 'all'),
        projects.map(p => h('option', { value: p, selected: p === keep }, p)),
      );
      draw();
    }
    // The running rows on screen: their ids, in table order.
    function inView() {
      const out = [],
        limit = innerHeight;
      for (const tr of t.el.querySelectorAll('tbody tr[data-key]')) {
        const r = tr.getBoundingClientRect();
        const c = list.find(x => x.id === tr.dataset.key);
        if (
          c &&
          c.state === 'running' &&
          r.bottom > 0 &&
          r.top < limit &&
          !(skip.get(c.id) > Date.now())
        )
          out.push(c.id);
      }
      return out.slice(0, 40);
    }
    async function poll() {
      const ids = inView();
      if (!ids.length) return;
      const key = ids.join(',');
      if (key !== asked || ids.some(id => !series[id])) {
        since = null;
        etag = null;
        asked = key;
      }
      const q =
        ids.map(id => 'container=' + enc(id)).join('&') +
        (since ? '&since=' + enc(since) : `&points=${FIRST}`);
      let r;
      try {
        r = await getIfChanged('/v1/metrics?' + q, etag);
      } catch (e) {
        // One the sampler does not hold (it just started, or stopped meanwhile): leave it out
        // for a while and ask again for the others.
        const gone = e.status === 404 && /no metrics for container (\S+)/.exec(e.message);
        if (!gone) throw e;
        skip.set(gone[1], Date.now() + 10000);
        asked = '';
        return ids.length > 1 ? poll() : undefined;
      }
      if (r.notModified) return;
      etag = r.etag;
      since = r.data.next_since || since;
      for (const m of r.data.containers) {
        const s = (series[m.id] ||= { t: [], cpu: [], mem: [] });
        for (const p of m.points) {
          s.t.push(Date.parse(p.time));
          s.cpu.push(p.cpu_percent);
          s.mem.push(p.memory_bytes);
        }
        for (const k of ['t', 'cpu', 'mem']) s[k].splice(0, Math.max(0, s[k].length - KEEP));
        const tr = t.el.querySelector(`tr[data-key="${CSS.escape(m.id)}"]`);
        if (!tr) continue;
        tr.querySelector('td[data-col=cpu]').replaceChildren(
          spark(m.id, 'cpu', `CPU % of ${m.name}`, 1),
        );
        tr.querySelector('td[data-col=mem]').replaceChildren(
          spark(m.id, 'mem', `memory bytes of ${m.name}`, 1),
        );
      }
    }
    for (const el of [name, label]) el.addEventListener('input', draw);
    project.addEventListener('change', draw);
    all.addEventListener('change', refresh);
    ctx.main.append(
      h('h1', {}, 'Containers'),
      h(
        'form',
        {
          class: 'filters',
          role: 'search',
          'aria-label': 'Filter containers',
          onsubmit: e => e.preventDefault(),
        },
        h('span', { class: 'field' }, h('label', { for: 'f-name' }, 'Name'), name),
        h('span', { class: 'field' }, h('label', { for: 'f-label' }, 'Label'), label),
        h('span', { class: 'field' }, h('label', { for: 'f-project' }, 'Project'), project),
        h('label', { class: 'check' }, all, ' Show stopped'),
      ),
      count,
      t.el,
    );
    await refresh();
    ctx.every(5000, refresh, false);
    ctx.every(1000, poll);
  },
};
