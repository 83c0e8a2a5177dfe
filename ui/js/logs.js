// A live log view: the route's SSE stream read with fetch (the token goes in a header), lines
// appended as they come; Pause holds new lines back (they are kept, up to a cap) and Resume
// shows them; a stream the network cut is taken up again. Used by the container and project pages.
import { follow } from './api.js';
import { h, showError } from './dom.js';

const MAX_LINES = 2000;

export function logView(ctx, path, title) {
  const pre = h('pre', { class: 'logs', tabindex: 0, 'aria-label': title, 'aria-live': 'off' });
  const state = h('span', { class: 'help', 'aria-live': 'polite' }, 'connecting…');
  let paused = false,
    held = [];
  const btn = h(
    'button',
    {
      type: 'button',
      'aria-pressed': 'false',
      onclick: () => {
        paused = !paused;
        btn.textContent = paused ? 'Resume' : 'Pause';
        btn.setAttribute('aria-pressed', String(paused));
        if (!paused) {
          held.forEach(add);
          held = [];
        }
        state.textContent = paused ? 'paused: new lines are held back' : 'following';
      },
    },
    'Pause',
  );
  function add(l) {
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.append(
      h(
        'span',
        { class: 'line ' + (l.stream || '') },
        (l.service ? `[${l.service}] ` : '') +
          (l.time ? l.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z') + ' ' : '') +
          l.text +
          '\n',
      ),
    );
    while (pre.childNodes.length > MAX_LINES) pre.firstChild.remove();
    if (stick) pre.scrollTop = pre.scrollHeight;
  }
  const signal = ctx.signal();
  let last = '',
    tries = 0,
    cut = null;
  // A stream cut by the network (not by the server's end, not by leaving the page) is taken up
  // again from the last line's time, lines at or before it dropped: nothing twice, nothing lost.
  // A hidden tab lets its stream go (a browser has 6 connections per origin for all its tabs)
  // and takes it up the same way when it shows again.
  const connect = () => {
    cut = new AbortController();
    const from = last
      ? path.replace(/([?&])tail=[^&]*/, `$1since=${encodeURIComponent(last)}`)
      : path;
    state.textContent = 'following';
    follow(
      from,
      (ev, l) => {
        if (ev !== 'log' && !('text' in l)) return;
        const t =
          l.time && l.time.replace(/(\.\d+)?Z$/, (m, f) => (f || '.').padEnd(10, '0') + 'Z');
        if (last && t && t <= last) return;
        if (t) last = t;
        tries = 0;
        if (paused) {
          held.push(l);
          if (held.length > MAX_LINES) held.shift();
        } else add(l);
      },
      AbortSignal.any([signal, cut.signal]),
    ).then(
      reason => {
        state.textContent = `stream ended (${reason})`;
      },
      e => {
        if (e.name === 'AbortError') return;
        if (e.status === undefined && tries++ < 5) {
          state.textContent = 'reconnecting…';
          setTimeout(() => {
            if (!signal.aborted && !document.hidden) connect();
          }, 1000 * tries);
          return;
        }
        state.textContent = 'stream failed';
        showError(e);
      },
    );
  };
  document.addEventListener(
    'visibilitychange',
    () => {
      if (document.hidden) {
        cut.abort();
        state.textContent = 'let go while the tab is hidden';
      } else connect();
    },
    { signal },
  );
  connect();
  return h(
    'section',
    { class: 'card wide', 'aria-label': title },
    h('div', { class: 'bar' }, h('h2', {}, title), btn, state),
    pre,
  );
}
