// Overview: engine, versions, host, counts, and cmsd's own health and sampler mode.
import { api } from '../api.js';
import { h, clear, bytes } from '../dom.js';

function dl(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]),
  );
}

export const overview = {
  async render(ctx) {
    const body = h('div', { class: 'grid' });
    ctx.main.append(h('h1', {}, 'Overview'), body);
    ctx.every(5000, async () => {
      const [health, info] = await Promise.all([
        api('GET', '/v1/health'),
        api('GET', '/v1/system/info'),
      ]);
      const n = info.counts || {},
        ct = n.containers || {};
      clear(
        body,
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'ov-engine' },
          h('h2', { id: 'ov-engine' }, 'Engine'),
          dl([
            ['Runtime', info.runtime],
            ['Version', info.engine?.version],
            ['API version', info.engine?.api_version],
            ['URL', info.engine?.url],
            ['State', health.engine],
          ]),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'ov-host' },
          h('h2', { id: 'ov-host' }, 'Host'),
          dl([
            ['OS', info.host?.os],
            ['Kernel', info.host?.kernel],
            ['CPUs', info.host?.cpus],
            ['Memory', bytes(info.host?.memory)],
          ]),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'ov-counts' },
          h('h2', { id: 'ov-counts' }, 'Counts'),
          dl([
            ['Running', ct.running],
            ['Paused', ct.paused],
            ['Stopped', ct.stopped],
            ['Images', n.images],
            ['Networks', n.networks],
            ['Volumes', n.volumes],
          ]),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'ov-cmsd' },
          h('h2', { id: 'ov-cmsd' }, 'cmsd'),
          dl([
            ['Health', health.status],
            ['Version', info.cmsd?.version],
            ['Uptime', `${info.cmsd?.uptime_s ?? '–'} s`],
            [
              'Sampler',
              info.sampler?.running
                ? `running (${info.sampler.mode}, every ${info.sampler.interval})`
                : 'stopped',
            ],
            ['Sampled containers', info.sampler?.containers],
          ]),
        ),
      );
    });
  },
};
