// Small DOM helpers: elements are built with h() from text (never parsed as HTML, so no name or log
// line can inject markup), sortable tables, formatting, the confirm dialog and the notice bar.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
}

export function clear(el, ...kids) {
  el.replaceChildren();
  append(el, kids);
  return el;
}

export function bytes(n) {
  if (n === null || n === undefined || !isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(Math.round(n))) + ' ' + u[i];
}

export function ago(iso) {
  if (!iso) return '–';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!isFinite(s)) return iso;
  if (s < 60) return Math.max(0, Math.round(s)) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

// "0.0.0.0:8080→80/tcp", or "80/tcp" for a port exposed without a binding.
function port(p) {
  const host = p.host_port ? `${p.host_ip ? p.host_ip + ':' : ''}${p.host_port}→` : '';
  return `${host}${p.container_port ?? ''}/${p.protocol || 'tcp'}`;
}

export function ports(list) {
  return (list || []).map(p => (typeof p === 'string' ? p : port(p))).join(', ');
}

export function badge(state) {
  return h(
    'span',
    { class: 'badge s-' + String(state || 'none').replace(/[^a-z]/g, '') },
    state || 'none',
  );
}

// A table with a caption and sortable columns. cols: [{key, label, value(row) for sorting,
// cell(row) -> Node|string}]. Returns {el, update(rows)}; the sort survives updates.
export function table(caption, cols, rowKey, { onRow, desc } = {}) {
  let sortBy = cols[0].key,
    dir = desc ? -1 : 1,
    rows = [];
  const tbody = h('tbody');
  const ths = cols.map(c => {
    const btn = h(
      'button',
      {
        type: 'button',
        class: 'sort',
        onclick: () => {
          dir = sortBy === c.key ? -dir : 1;
          sortBy = c.key;
          draw();
        },
      },
      c.label,
    );
    return h('th', { scope: 'col', dataset: { key: c.key } }, c.sort === false ? c.label : btn);
  });
  const el = h(
    'div',
    { class: 'scroll' },
    h('table', {}, h('caption', {}, caption), h('thead', {}, h('tr', {}, ths)), tbody),
  );
  function val(c, r) {
    return c.value ? c.value(r) : r[c.key];
  }
  function draw() {
    const c = cols.find(x => x.key === sortBy);
    const sorted = [...rows].sort((a, b) => {
      const x = val(c, a),
        y = val(c, b);
      return (
        (typeof x === 'number' && typeof y === 'number'
          ? x - y
          : String(x ?? '').localeCompare(String(y ?? ''))) * dir
      );
    });
    ths.forEach((th, i) =>
      th.setAttribute(
        'aria-sort',
        cols[i].key === sortBy ? (dir > 0 ? 'ascending' : 'descending') : 'none',
      ),
    );
    tbody.replaceChildren(
      ...sorted.map(r => {
        const tr = h(
          'tr',
          { dataset: { key: rowKey(r) } },
          cols.map(cc =>
            h('td', { dataset: { col: cc.key } }, cc.cell ? cc.cell(r) : String(r[cc.key] ?? '')),
          ),
        );
        if (onRow) onRow(tr, r);
        return tr;
      }),
    );
    if (!sorted.length)
      tbody.append(h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, 'Nothing here.')));
  }
  // Redrawn only when what the columns show changed (a redraw would move the keyboard focus);
  // columns marked live update their own cells.
  let sig = null;
  return {
    el,
    update(r) {
      const s = JSON.stringify(r.map(x => cols.filter(c => !c.live).map(c => val(c, x))));
      rows = r;
      if (s !== sig) {
        sig = s;
        draw();
      }
    },
  };
}

// The one confirmation dialog (a modal <dialog>: focus stays in it, Escape cancels).
export function confirmAction(text) {
  const dlg = document.getElementById('confirm');
  dlg.querySelector('p').textContent = text;
  dlg.returnValue = '';
  dlg.showModal();
  dlg.querySelector('button[value=cancel]').focus();
  return new Promise(resolve =>
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true }),
  );
}

// The notice bar: errors carry the server's status, code and message.
export function notify(msg, kind = 'info') {
  const bar = document.getElementById('notice');
  bar.className = 'notice ' + kind;
  bar.textContent = msg;
  bar.hidden = !msg;
}

export function showError(e) {
  if (e && e.name === 'AbortError') return;
  notify(e && e.status !== undefined ? `${e.status} ${e.code}: ${e.message}` : String(e), 'error');
}
