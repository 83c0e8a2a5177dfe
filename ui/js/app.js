// The dashboard's shell: sign-in (whoami decides what is offered), the navigation, the hash
// router (#/containers, #/c/ID, ...), and the pollers: a page asks for every(ms, fn); all of
// them stop while the tab is hidden and run at once when it shows again.
import { api, session, ApiError } from './api.js';
import { h, clear, notify, showError } from './dom.js';
import * as pages from './pages/index.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signout = document.getElementById('signout');
const ROLES = { viewer: 1, operator: 2, admin: 3 };
let me = null,
  current = null;

const NAV = [
  ['overview', 'Overview'],
  ['containers', 'Containers'],
  ['projects', 'Projects'],
  ['images', 'Images'],
  ['networks', 'Networks'],
  ['volumes', 'Volumes'],
  ['events', 'Events'],
  ['audit', 'Audit', 'admin'],
];

// A page's context: where it draws, who is signed in, and its pollers and streams, all
// stopped when the user leaves the page.
function context(params) {
  const timers = [],
    aborts = [];
  const ctx = {
    main,
    params,
    me,
    can: role => ROLES[me.role] >= ROLES[role],
    every(ms, fn, now = true) {
      const t = { ms, fn, id: 0, busy: false };
      t.run = async () => {
        clearTimeout(t.id);
        if (ctx.stopped || document.hidden || t.busy) return;
        t.busy = true;
        try {
          await fn();
        } catch (e) {
          if (e instanceof ApiError && e.status === 401) return expired();
          showError(e);
        }
        t.busy = false;
        if (!ctx.stopped && !document.hidden) t.id = setTimeout(t.run, ms);
      };
      timers.push(t);
      if (now) t.run();
      else t.id = setTimeout(t.run, ms);
      return t;
    },
    controller() {
      const a = new AbortController();
      aborts.push(a);
      return a;
    },
    signal() {
      return ctx.controller().signal;
    },
    stop() {
      ctx.stopped = true;
      timers.forEach(t => clearTimeout(t.id));
      aborts.forEach(a => a.abort());
      if (ctx.onStop) ctx.onStop();
    },
    resume() {
      timers.forEach(t => t.run());
    },
    go(hash) {
      location.hash = hash;
    },
  };
  return ctx;
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && current) current.resume();
});

function expired() {
  session.token = null;
  me = null;
  notify('The token is no longer accepted: sign in again.', 'error');
  route();
}

function drawNav() {
  clear(
    nav,
    h(
      'ul',
      {},
      NAV.filter(n => !n[2] || ROLES[me.role] >= ROLES[n[2]]).map(([id, label]) =>
        h('li', {}, h('a', { href: '#/' + id, id: 'nav-' + id }, label)),
      ),
    ),
  );
  nav.hidden = false;
  who.textContent = `${me.name} (${me.role})`;
  signout.hidden = false;
}

function markNav(id) {
  nav.querySelectorAll('a').forEach(a => a.toggleAttribute('aria-current', a.id === 'nav-' + id));
}

function signIn(msg) {
  nav.hidden = true;
  signout.hidden = true;
  who.textContent = '';
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'signin-help',
  });
  const err = h('p', { id: 'signin-error', class: 'error', role: 'alert' }, msg || '');
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async ev => {
        ev.preventDefault();
        err.textContent = '';
        try {
          me = await api('GET', '/v1/auth/whoami', { token: input.value.trim() });
          session.token = input.value.trim();
          notify('');
          route();
        } catch (e) {
          err.textContent =
            e.status === 401
              ? `This token was not accepted (${e.message}). Check it and try again.`
              : String(e);
          input.focus();
        }
      },
    },
    h('h1', {}, 'Sign in to cmsd'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { id: 'signin-help', class: 'help' },
      'The token is kept for this tab only (sessionStorage) and sent as an Authorization header.',
    ),
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  clear(main, form);
  input.focus();
}

async function route() {
  if (current) current.stop();
  current = null;
  if (!session.token) return signIn();
  if (!me) {
    try {
      me = await api('GET', '/v1/auth/whoami');
    } catch (e) {
      session.token = null;
      return signIn(e.status === 401 ? 'The stored token is no longer accepted.' : String(e));
    }
  }
  drawNav();
  const [, name = 'overview', ...rest] = location.hash.replace(/^#/, '').split('/');
  const page = pages[name];
  if (!page || (page.role && !(ROLES[me.role] >= ROLES[page.role]))) {
    location.hash = '#/overview';
    return;
  }
  markNav(page.nav || name);
  notify('');
  current = context(rest.map(decodeURIComponent));
  clear(main);
  try {
    await page.render(current);
  } catch (e) {
    showError(e);
  }
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
  document.title = (h1 ? h1.textContent + ' – ' : '') + 'cmsd';
}

signout.addEventListener('click', () => {
  session.token = null;
  me = null;
  location.hash = '';
  route();
});
window.addEventListener('hashchange', route);
route();
