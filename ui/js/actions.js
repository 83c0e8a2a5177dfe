// Actions on containers and projects, offered to operators and admins only (viewers get no
// buttons). Each asks for confirmation, is one ordinary API call, and a refusal (403, a
// policy_denied) is shown with the server's message.
import { api, enc } from './api.js';
import { h, confirmAction, notify, showError } from './dom.js';

const BY_STATE = {
  running: ['stop', 'restart', 'pause', 'remove'],
  paused: ['unpause', 'stop', 'remove'],
  restarting: ['stop', 'remove'],
};

async function run(label, what, call, after) {
  if (!(await confirmAction(`${label} ${what}?`))) return;
  try {
    await call();
    notify(`${label}: done for ${what}.`, 'ok');
  } catch (e) {
    showError(e);
  }
  if (after) await after();
}

export function containerActions(ctx, c, after) {
  if (!ctx.can('operator')) return null;
  const acts = BY_STATE[c.state] || ['start', 'remove'];
  const path = `/v1/containers/${enc(c.id)}`;
  return h(
    'span',
    { class: 'actions', role: 'group', 'aria-label': `Actions on ${c.name}` },
    acts.map(a =>
      h(
        'button',
        {
          type: 'button',
          class: a === 'remove' ? 'danger' : '',
          dataset: { action: a },
          onclick: () =>
            run(
              a[0].toUpperCase() + a.slice(1),
              `container ${c.name}`,
              () =>
                a === 'remove' ? api('DELETE', `${path}?force=true`) : api('POST', `${path}/${a}`),
              after,
            ),
        },
        a,
      ),
    ),
  );
}

export function projectActions(ctx, name, after) {
  if (!ctx.can('operator')) return null;
  return h(
    'span',
    { class: 'actions', role: 'group', 'aria-label': `Actions on project ${name}` },
    ['up', 'down', 'restart'].map(a =>
      h(
        'button',
        {
          type: 'button',
          class: a === 'down' ? 'danger' : '',
          dataset: { action: a },
          onclick: () =>
            run(
              a[0].toUpperCase() + a.slice(1),
              `project ${name}`,
              () => api('POST', `/v1/projects/${enc(name)}/${a}`, { body: {} }),
              after && (() => after(a)),
            ),
        },
        a,
      ),
    ),
  );
}
