// One container: live CPU, memory, network and block-I/O charts fed by ONE /v1/metrics request
// per interval (since= the last point drawn, If-None-Match the last ETag), a 5 min / 1 h / all
// window, the health log, inspect as a tree, live logs, and the actions by role.
import { api, getIfChanged, enc } from '../api.js';
import { h, clear, badge, bytes } from '../dom.js';
import { loadUPlot, timeChart, registry } from '../charts.js';
import { containerActions } from '../actions.js';
import { logView } from '../logs.js';
import { tree } from '../tree.js';

const WINDOWS = [
  ['5m', '5 min', 300e3],
  ['1h', '1 hour', 3600e3],
  ['all', 'All history', Infinity],
];
const pct = v => v.toFixed(1) + ' %';
const rate = v => bytes(v) + '/s';

export const c = {
  nav: 'containers',
  async render(ctx) {
    const id = ctx.params[0];
    const info = await api('GET', `/v1/containers/${enc(id)}`);
    const head = h('div', { class: 'bar' });
    const drawHead = x =>
      clear(
        head,
        h('h1', {}, x.name),
        badge(x.state),
        badge(x.health),
        containerActions(ctx, x, async () => {
          try {
            drawHead(await api('GET', `/v1/containers/${enc(id)}`));
          } catch {
            ctx.go('#/containers');
          }
        }),
      );
    drawHead(info);
    let win = WINDOWS[0];
    const picker = h(
      'div',
      { class: 'seg', role: 'radiogroup', 'aria-label': 'Time window' },
      WINDOWS.map(w =>
        h(
          'label',
          {},
          h('input', {
            type: 'radio',
            name: 'win',
            value: w[0],
            checked: w === win,
            onchange: () => {
              win = w;
              reset();
              poll();
            },
          }),
          w[1],
        ),
      ),
    );
    const boxes = ['cpu', 'mem', 'net', 'blk'].map(k =>
      h('div', { class: 'chart', id: 'chart-' + k }),
    );
    const health = h('div');
    ctx.main.append(
      head,
      h('p', { class: 'help' }, `${info.image} · ${info.status} · id ${info.id.slice(0, 12)}`),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'charts-h' },
        h('div', { class: 'bar' }, h('h2', { id: 'charts-h' }, 'Resources'), picker),
        h('div', { class: 'charts' }, boxes),
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'health-h' },
        h('h2', { id: 'health-h' }, 'Health'),
        health,
      ),
      logView(ctx, `/v1/containers/${enc(id)}/logs?follow=true&tail=200&timestamps=true`, 'Logs'),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'inspect-h' },
        h('h2', { id: 'inspect-h' }, 'Inspect'),
        tree(info, 'container'),
      ),
    );

    const uPlot = await loadUPlot();
    if (ctx.stopped) return;
    const charts = [
      timeChart(uPlot, boxes[0], 'CPU', ['CPU %'], pct),
      timeChart(uPlot, boxes[1], 'Memory', ['usage'], bytes),
      timeChart(uPlot, boxes[2], 'Network', ['rx', 'tx'], rate),
      timeChart(uPlot, boxes[3], 'Block I/O', ['read', 'write'], rate),
    ];
    const d = (registry.container = {
      id: info.id,
      t: [],
      cpu: [],
      mem: [],
      rx: [],
      tx: [],
      rd: [],
      wr: [],
    });
    let since = null,
      etag = null;
    function reset() {
      since = null;
      etag = null;
      for (const k in d) if (Array.isArray(d[k])) d[k].length = 0;
    }
    function draw() {
      const ts = d.t.map(x => x / 1000);
      charts[0].set([ts, d.cpu]);
      charts[1].set([ts, d.mem]);
      charts[2].set([ts, d.rx, d.tx]);
      charts[3].set([ts, d.rd, d.wr]);
    }
    async function poll() {
      const from = since ?? (isFinite(win[2]) ? new Date(Date.now() - win[2]).toISOString() : '0');
      let r;
      try {
        r = await getIfChanged(`/v1/metrics?container=${enc(info.id)}&since=${enc(from)}`, etag);
      } catch (e) {
        if (e.status === 404) return; // not running: nothing sampled
        throw e;
      }
      if (r.notModified) return;
      etag = r.etag;
      since = r.data.next_since || since;
      const m = r.data.containers[0];
      for (const p of m ? m.points : []) {
        d.t.push(Date.parse(p.time));
        d.cpu.push(p.cpu_percent);
        d.mem.push(p.memory_bytes);
        d.rx.push(p.net_rx_bytes_per_s);
        d.tx.push(p.net_tx_bytes_per_s);
        d.rd.push(p.blk_read_bytes_per_s);
        d.wr.push(p.blk_write_bytes_per_s);
      }
      const cut = Date.now() - win[2];
      let drop = 0;
      while (drop < d.t.length && d.t[drop] < cut) drop++;
      if (drop) for (const k in d) if (Array.isArray(d[k])) d[k].splice(0, drop);
      draw();
    }
    ctx.every(1000, poll);
    ctx.every(5000, async () => {
      const hl = await api('GET', `/v1/containers/${enc(id)}/health`);
      clear(
        health,
        h('p', {}, 'Status ', badge(hl.status), ` · failing streak ${hl.failing_streak}`),
        hl.log.length
          ? h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                {},
                h('caption', {}, 'Health checks'),
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Start', 'End', 'Exit', 'Output'].map(x => h('th', { scope: 'col' }, x)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  hl.log.map(e =>
                    h(
                      'tr',
                      {},
                      h('td', {}, e.start),
                      h('td', {}, e.end),
                      h('td', {}, e.exit_code),
                      h('td', {}, h('code', {}, e.output)),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'help' }, 'No health checks recorded.'),
      );
    });
    ctx.onStop = () => charts.forEach(x => x.destroy());
  },
};
