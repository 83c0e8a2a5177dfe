// Compose projects: the list with up/down/restart by role and a form to up a new one from a
// compose file; a project's page with its services, replicas, states and merged live logs.
import { api, enc } from '../api.js';
import { h, clear, badge, table, notify, showError, ports } from '../dom.js';
import { projectActions, containerActions } from '../actions.js';
import { logView } from '../logs.js';

function upForm(ctx, after) {
  const name = h('input', {
    id: 'np-name',
    required: true,
    pattern: '[a-z0-9][a-z0-9_\\-]*',
    autocomplete: 'off',
  });
  const yaml = h('textarea', { id: 'np-compose', required: true, rows: 8, spellcheck: 'false' });
  return h(
    'details',
    { class: 'card wide' },
    h('summary', {}, 'Up a new project'),
    h(
      'form',
      {
        class: 'stack',
        onsubmit: async ev => {
          ev.preventDefault();
          try {
            await api('POST', '/v1/projects', {
              body: { name: name.value.trim(), compose: yaml.value },
            });
            notify(`Project ${name.value.trim()} is up.`, 'ok');
            await after();
          } catch (e) {
            showError(e);
          }
        },
      },
      h('label', { for: 'np-name' }, 'Project name'),
      name,
      h('label', { for: 'np-compose' }, 'Compose file (YAML)'),
      yaml,
      h('button', { type: 'submit', class: 'primary' }, 'Up'),
    ),
  );
}

export const projects = {
  async render(ctx) {
    const t = table(
      'Projects',
      [
        { key: 'name', label: 'Name', cell: p => h('a', { href: '#/p/' + enc(p.name) }, p.name) },
        { key: 'status', label: 'State', cell: p => badge(p.status) },
        { key: 'services', label: 'Services', value: p => (p.services || []).join(', ') },
        { key: 'running', label: 'Running', value: p => `${p.running}/${p.containers}` },
        ...(ctx.can('operator')
          ? [
              {
                key: 'actions',
                label: 'Actions',
                sort: false,
                cell: p => projectActions(ctx, p.name, refresh),
              },
            ]
          : []),
      ],
      p => p.name,
    );
    async function refresh() {
      t.update(await api('GET', '/v1/projects'));
    }
    ctx.main.append(
      h('h1', {}, 'Projects'),
      ctx.can('operator') ? upForm(ctx, refresh) : null,
      t.el,
    );
    ctx.every(5000, refresh);
  },
};

export const p = {
  nav: 'projects',
  async render(ctx) {
    const name = ctx.params[0];
    const body = h('div');
    const refresh = async () => {
      const ps = await api('GET', `/v1/projects/${enc(name)}`);
      clear(
        body,
        ps.services.map(s => {
          const running = s.containers.filter(x => x.state === 'running').length;
          return h(
            'section',
            { class: 'card wide', 'aria-label': `Service ${s.name}` },
            h(
              'h2',
              {},
              s.name,
              ' ',
              h('span', { class: 'help' }, `${running}/${s.containers.length} replicas running`),
            ),
            h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                {},
                h('caption', {}, `Containers of ${s.name}`),
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Name', 'State', 'Health', 'Ports', ctx.can('operator') ? 'Actions' : null]
                      .filter(Boolean)
                      .map(x => h('th', { scope: 'col' }, x)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  s.containers.map(x =>
                    h(
                      'tr',
                      { dataset: { key: x.id } },
                      h('td', {}, h('a', { href: '#/c/' + enc(x.id) }, x.name)),
                      h('td', {}, badge(x.state)),
                      h('td', {}, badge(x.health)),
                      h('td', {}, ports(x.ports)),
                      ctx.can('operator') ? h('td', {}, containerActions(ctx, x, refresh)) : null,
                    ),
                  ),
                ),
              ),
            ),
          );
        }),
      );
    };
    ctx.main.append(
      h(
        'div',
        { class: 'bar' },
        h('h1', {}, `Project ${name}`),
        projectActions(ctx, name, a => (a === 'down' ? ctx.go('#/projects') : refresh())),
      ),
      body,
      logView(
        ctx,
        `/v1/projects/${enc(name)}/logs?follow=true&tail=100&timestamps=true`,
        'Logs (all services)',
      ),
    );
    ctx.every(5000, refresh);
  },
};
