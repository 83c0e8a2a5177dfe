// Charts: a small canvas sparkline of our own for the table rows (a hundred uPlot instances
// would cost more than the rows), and uPlot, loaded on first use, for a container's charts.
// What each chart draws is kept in window.__cmsdCharts, so tests read values, not pixels.
import { h } from './dom.js';

const registry = (window.__cmsdCharts = { sparks: {}, container: null });
export { registry };

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// A sparkline: the values drawn as one line scaled to [0, max(values, floor)].
export function sparkline(label, values, floor = 1) {
  const c = h('canvas', {
    class: 'spark',
    width: 96,
    height: 24,
    role: 'img',
    'aria-label': `${label}: ${values.length ? values[values.length - 1] : 'no data'}`,
  });
  const g = c.getContext('2d');
  if (!g || values.length < 2) return c;
  const max = Math.max(floor, ...values);
  g.strokeStyle = cssVar('--accent') || '#36c';
  g.lineWidth = 1.5;
  g.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (c.width - 2) + 1;
    const y = c.height - 1 - (v / max) * (c.height - 2);
    if (i) g.lineTo(x, y);
    else g.moveTo(x, y);
  });
  g.stroke();
  return c;
}

let loading;
// uPlot is a classic script (a global); loaded once, from this origin.
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading ||= new Promise((resolve, reject) => {
    const s = h('script', { src: 'vendor/uPlot.iife.min.js' });
    s.addEventListener('load', () => resolve(window.uPlot));
    s.addEventListener('error', () => reject(new Error('cannot load the chart library')));
    document.head.append(s);
    document.head.append(h('link', { rel: 'stylesheet', href: 'vendor/uPlot.min.css' }));
  });
  return loading;
}

// A time chart of one or more series. data: [times (s), ...series]; fmt formats the axis.
export function timeChart(uPlot, el, title, names, fmt) {
  const colors = [cssVar('--accent') || '#36c', cssVar('--accent2') || '#c63'];
  const axis = { stroke: cssVar('--fg') || '#222', grid: { stroke: cssVar('--grid') || '#ddd' } };
  const opts = {
    title,
    width: Math.max(260, el.clientWidth || 300),
    height: 170,
    series: [
      {},
      ...names.map((n, i) => ({
        label: n,
        stroke: colors[i % 2],
        width: 1.5,
        value: (u, v) => (v == null ? '–' : fmt(v)),
      })),
    ],
    axes: [axis, { ...axis, size: 70, values: (u, vals) => vals.map(fmt) }],
    scales: { y: { range: (u, lo, hi) => [0, Math.max(hi, 1e-9) * 1.1] } },
  };
  const u = new uPlot(opts, [[], ...names.map(() => [])], el);
  const ro = new ResizeObserver(() =>
    u.setSize({ width: Math.max(260, el.clientWidth), height: 170 }),
  );
  ro.observe(el);
  return {
    set: d => u.setData(d),
    destroy: () => {
      ro.disconnect();
      u.destroy();
    },
  };
}
