// The dashboard in a real browser: Debian's chromium driven by playwright-core against a running
// cmsd on a real engine (tests/integration/test_ui.sh starts it all and turns the lines printed
// here into its rows). Prints "ok NAME" or "not ok NAME: why" per check, then "done".
//
// env: CMSD_URL, TOK_ADMIN, TOK_OPERATOR, TOK_VIEWER, ENGINE_SOCK, CHROMIUM (the browser),
//      SHOTS (screenshot dir), C_LOG (a running container printing "tick <unix s>" every second),
//      C_STOP (a running container the operator stops), PROJECT (a project name to up and down),
//      IMG (the image its service runs), RUN_LABEL (k=v put on what the test makes).
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import { relayOut } from './netns.mjs';

const E = process.env;
const URL0 = E.CMSD_URL.replace(/\/$/, '');
const ORIGIN = new URL(URL0).origin;
const SHOTS = E.SHOTS;
fs.mkdirSync(SHOTS, { recursive: true });

const results = [];
function report(name, ok, why = '') {
  results.push(name);
  console.log(
    ok ? `ok ${name}` : `not ok ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 1500)}`,
  );
}
async function check(name, fn) {
  try {
    await fn();
    report(name, true);
  } catch (e) {
    report(name, false, e && e.message ? e.message : e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

// cmsd's API and the engine's, outside the browser.
async function cmsd(path, token = E.TOK_ADMIN) {
  const r = await fetch(URL0 + path, { headers: { Authorization: `Bearer ${token}` } });
  const doc = await r.json();
  assert(r.ok, `${path}: ${r.status} ${JSON.stringify(doc)}`);
  return doc.data;
}
function engine(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: E.ENGINE_SOCK, path: '/v1.41' + path }, res => {
      let b = '';
      res.on('data', d => (b += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(b) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
async function waitFor(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// Chromium aborts what is in flight when a network interface comes or goes (ERR_NETWORK_CHANGED:
// the engines add veths and bridges for every container and network); a navigation cut so is
// made again.
async function goto(page, url) {
  for (let i = 0; ; i++) {
    try {
      return await page.goto(url);
    } catch (e) {
      if (i >= 5 || !/ERR_NETWORK_CHANGED/.test(e.message)) throw e;
      await new Promise(r => setTimeout(r, 500));
    }
  }
}

// The browser runs in a network namespace of its own, cmsd reached through a relay (netns.mjs).
const relay = relayOut(Number(new URL(URL0).port));
await relay.ready;
const browser = await chromium.launch({
  executablePath: new URL('./chromium-netns.sh', import.meta.url).pathname,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  env: { ...process.env, RELAY_PORT: new URL(URL0).port, RELAY_SOCK: relay.sock },
});
const problems = { console: [], foreign: [], csp: [], netChanged: 0 };

// A signed-in page. watch=false for the pages whose checks provoke an error on purpose (a wrong
// token, a viewer forcing an action, a container stopped under an open page).
async function open(token, { watch = true, viewport = { width: 1280, height: 800 } } = {}) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.on('request', r => {
    const u = r.url();
    if (!u.startsWith(ORIGIN + '/') && !u.startsWith('data:')) problems.foreign.push(u);
  });
  if (watch) {
    page.on('console', m => {
      // An image never scanned is a 404 the scan page explains; Chromium logs every 4xx fetch.
      // ERR_NETWORK_CHANGED: Chromium cut requests because a network interface came or went
      // (the engines' bridges and veths, other tests'); the page retries those (counted apart).
      if (
        m.type() !== 'error' ||
        (/\/v1\/images\/.*\/scan$/.test(m.location().url) && /status of 404/.test(m.text()))
      )
        return;
      if (/ERR_NETWORK_CHANGED/.test(m.text())) {
        problems.netChanged++;
        return;
      }
      problems.console.push(`${page.url()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', e => problems.console.push(`${page.url()}: ${e.message}`));
  }
  await page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', e =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
  page.on('console', m => {
    if (m.text().startsWith('CSP violation')) problems.csp.push(m.text());
  });
  const resp = await goto(page, URL0 + '/ui/');
  if (token) {
    await page.fill('#token', token);
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('#nav-containers');
  }
  return { page, ctx, resp };
}
const go = async (page, hash) => {
  await page.evaluate(h => {
    location.hash = h;
  }, hash);
  await page.waitForTimeout(50);
};
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

try {
  await check('signin_wrong_token', async () => {
    const { page, ctx } = await open(null, { watch: false });
    await page.fill('#token', 'not-a-token');
    await page.click('form.signin button[type=submit]');
    const msg = await page.waitForSelector('#signin-error:not(:empty)').then(e => e.textContent());
    assert(/not accepted/.test(msg) && /invalid token/.test(msg), `message: ${msg}`);
    assert(!(await page.isVisible('#nav')), 'navigation shown after a wrong token');
    assert(await page.evaluate(() => sessionStorage.length === 0), 'a wrong token was stored');
    await shot(page, 'signin-error');
    await ctx.close();
  });

  // Each role signs in; whoami decides: the audit page only for admin.
  const admin = await open(E.TOK_ADMIN);
  const op = await open(E.TOK_OPERATOR);
  const viewer = await open(E.TOK_VIEWER);
  await check('signin_roles', async () => {
    for (const [s, role] of [
      [admin, 'admin'],
      [op, 'operator'],
      [viewer, 'viewer'],
    ]) {
      const who = await s.page.textContent('#who');
      assert(who.includes(`(${role})`), `${role}: header says ${who}`);
      const audit = await s.page.isVisible('#nav-audit');
      assert(audit === (role === 'admin'), `${role}: audit link ${audit ? 'shown' : 'hidden'}`);
      const stored = await s.page.evaluate(() => ({
        cookie: document.cookie,
        url: location.href,
        n: sessionStorage.length,
      }));
      assert(
        !stored.cookie && !/t-/.test(stored.url) && stored.n === 1,
        `token kept outside sessionStorage: ${JSON.stringify(stored)}`,
      );
    }
  });

  await check('csp_no_inline', async () => {
    const h = admin.resp.headers();
    const csp = h['content-security-policy'] || '';
    assert(/default-src 'self'/.test(csp), `CSP: ${csp}`);
    assert(!/unsafe-inline|unsafe-eval|\*/.test(csp), `CSP allows too much: ${csp}`);
    assert(h['x-content-type-options'] === 'nosniff', 'no nosniff');
    const html = await admin.resp.text();
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'an inline <script> in index.html');
    assert(!/<style|\sstyle=|\son[a-z]+=/i.test(html), 'inline style or handler in index.html');
    const dom = await admin.page.evaluate(() => ({
      inline: [...document.scripts].filter(s => !s.src).length,
      handlers: [...document.querySelectorAll('*')].filter(e =>
        [...e.attributes].some(a => a.name.startsWith('on')),
      ).length,
    }));
    assert(dom.inline === 0 && dom.handlers === 0, `DOM: ${JSON.stringify(dom)}`);
    // The policy has no 'unsafe-eval' (checked above); page.evaluate runs through the debugger,
    // which a CSP does not bind, so that the sources use no eval is test_ui.sh's check.
  });

  await check('containers_table_equals_api', async () => {
    const p = admin.page;
    await go(p, '#/containers');
    for (const all of [true, false]) {
      if ((await p.isChecked('#f-all')) !== all) await p.click('#f-all');
      const api = (await cmsd('/v1/containers' + (all ? '?all=true' : ''))).map(c => c.id).sort();
      const rows = await waitFor(
        `table rows (all=${all})`,
        async () => {
          const ids = (
            await p.$$eval('table tbody tr[data-key]', trs => trs.map(t => t.dataset.key))
          ).sort();
          return JSON.stringify(ids) === JSON.stringify(api) ? ids : null;
        },
        8000,
      );
      assert(rows.length === api.length, `rows ${rows.length} vs api ${api.length}`);
    }
    await p.click('#f-all');
    const n = await p.$$eval('table tbody tr[data-key]', t => t.length);
    assert(n > 0, 'empty table');
    await shot(p, 'containers');
    // Sparklines of the running rows on screen come from /v1/metrics: filter down to the log
    // container (other tests' containers may push it below the fold) and wait for its points.
    const id = (await cmsd(`/v1/containers/${E.C_LOG}`)).id;
    await p.fill('#f-name', E.C_LOG);
    const shown = await p.$$eval('table tbody tr[data-key]', t => t.map(r => r.dataset.key));
    assert(shown.length === 1 && shown[0] === id, `name filter shows ${JSON.stringify(shown)}`);
    await waitFor(
      'sparkline points',
      () => p.evaluate(i => (window.__cmsdCharts.sparks[i]?.cpu.length || 0) >= 2, id),
      10000,
    );
    await p.fill('#f-name', '');
  });

  await check('viewer_no_actions_and_403', async () => {
    const p = viewer.page;
    await go(p, '#/containers');
    await p.waitForSelector('table tbody tr[data-key]');
    await go(p, `#/c/${E.C_STOP}`);
    await p.waitForSelector('#chart-cpu');
    await go(p, '#/projects');
    await p.waitForSelector('table caption');
    for (const hash of ['#/containers', `#/c/${E.C_STOP}`, '#/projects']) {
      await go(p, hash);
      await p.waitForTimeout(700);
      const n = await p.$$eval('button[data-action], #np-name', b => b.length);
      assert(n === 0, `${hash}: ${n} action controls for a viewer`);
    }
    await shot(p, 'viewer-projects');
    // Forcing one anyway, with the page's token, in a page of its own (the 403 it provokes is
    // logged on the console there, on purpose).
    const f = await open(E.TOK_VIEWER, { watch: false });
    const forced = await f.page.evaluate(async id => {
      const r = await fetch(`/v1/containers/${id}/stop`, {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + sessionStorage.getItem('cmsd.token') },
      });
      return { status: r.status, body: await r.json() };
    }, E.C_STOP);
    await f.ctx.close();
    assert(
      forced.status === 403 && forced.body.error.code === 'forbidden',
      `forced stop: ${JSON.stringify(forced)}`,
    );
    const st = await engine(`/containers/${E.C_STOP}/json`);
    assert(
      st.body.State.Status === 'running',
      `the viewer's stop reached the engine: ${st.body.State.Status}`,
    );
  });

  await check('chart_last_values_equal_metrics', async () => {
    const p = admin.page;
    await go(p, `#/c/${E.C_LOG}`);
    await waitFor(
      'chart points',
      () => p.evaluate(() => (window.__cmsdCharts.container?.t.length || 0) >= 3),
      15000,
    );
    const drawn = await p.evaluate(() => {
      const c = window.__cmsdCharts.container;
      const i = c.t.length - 1;
      return { id: c.id, t: c.t[i], cpu: c.cpu[i], mem: c.mem[i] };
    });
    const m = await cmsd(`/v1/metrics?container=${drawn.id}&since=0`);
    const pt = m.containers[0].points.find(x => Date.parse(x.time) === drawn.t);
    assert(pt, `no /v1/metrics point at ${new Date(drawn.t).toISOString()}`);
    assert(
      pt.cpu_percent === drawn.cpu && pt.memory_bytes === drawn.mem,
      `drawn cpu ${drawn.cpu} mem ${drawn.mem}, ` +
        `API cpu ${pt.cpu_percent} mem ${pt.memory_bytes} at ${pt.time}`,
    );
    // The uPlot chart holds the same arrays it was given.
    await shot(p, 'container');
  });

  await check('window_picker', async () => {
    const p = admin.page;
    for (const w of ['1h', 'all', '5m']) {
      await p.check(`input[name=win][value="${w}"]`);
      await waitFor(
        `points for ${w}`,
        () => p.evaluate(() => window.__cmsdCharts.container.t.length > 0),
        8000,
      );
    }
    const span = await p.evaluate(() => {
      const t = window.__cmsdCharts.container.t;
      return t[t.length - 1] - t[0];
    });
    assert(span <= 300e3 + 2000, `5 min window spans ${span} ms`);
  });

  await check('logs_follow_new_line', async () => {
    const p = admin.page;
    await p.waitForSelector('pre.logs');
    const opened = Math.floor(Date.now() / 1000);
    const seen = await waitFor(
      'a log line written after the page opened',
      () =>
        p.$$eval(
          'pre.logs span.line',
          (ls, t0) => ls.map(l => +(/tick (\d+)/.exec(l.textContent) || [])[1]).find(x => x > t0),
          opened + 1,
        ),
      20000,
    );
    assert(seen > opened, `line ${seen}`);
    // Paused: new lines are held back; resumed: they show.
    await p.click('section[aria-label=Logs] button[aria-pressed]');
    const n0 = await p.$$eval('pre.logs span.line', l => l.length);
    await p.waitForTimeout(2500);
    const n1 = await p.$$eval('pre.logs span.line', l => l.length);
    assert(n1 === n0, `lines added while paused (${n0} -> ${n1})`);
    await p.click('section[aria-label=Logs] button[aria-pressed]');
    await waitFor(
      'held lines shown',
      () => p.$$eval('pre.logs span.line', (l, n) => l.length > n, n0),
      5000,
    );
  });

  await check('operator_stops_container', async () => {
    const { page: p, ctx } = await open(E.TOK_OPERATOR, { watch: false });
    await go(p, `#/c/${E.C_STOP}`);
    await p.click('button[data-action=stop]');
    await p.waitForSelector('dialog#confirm[open]');
    await shot(p, 'confirm-stop');
    await p.click('dialog#confirm button[value=ok]');
    await waitFor(
      'the engine reports it stopped',
      async () => {
        const r = await engine(`/containers/${E.C_STOP}/json`);
        return r.body.State.Status === 'exited' ? true : r.body.State.Status;
      },
      40000,
    );
    await p.waitForSelector('button[data-action=start]', { timeout: 30000 });
    await ctx.close();
  });

  await check('policy_denied_shown', async () => {
    // A page of its own: the refusal is logged on its console, on purpose.
    const { page: p, ctx } = await open(E.TOK_OPERATOR, { watch: false });
    await go(p, '#/projects');
    await p.click('details.card summary');
    await p.fill('#np-name', E.PROJECT + '-denied');
    const compose = ['services:', '  web:', `    image: ${E.IMG}`, '    privileged: true', ''];
    await p.fill('#np-compose', compose.join('\n'));
    await p.click('details.card button[type=submit]');
    const msg = await p.waitForSelector('#notice.error').then(e => e.textContent());
    assert(/^403 policy_denied: .*privileged/.test(msg), `notice: ${msg}`);
    const r = await engine(
      `/containers/json?all=1&filters=${encodeURIComponent(
        JSON.stringify({ label: [`com.docker.compose.project=${E.PROJECT}-denied`] }),
      )}`,
    );
    assert(r.body.length === 0, `${r.body.length} containers made despite the refusal`);
    await shot(p, 'policy-denied');
    await ctx.close();
  });

  await check('operator_ups_and_downs_project', async () => {
    const p = op.page;
    await go(p, '#/projects');
    await p.click('details.card summary');
    await p.fill('#np-name', E.PROJECT);
    const [k, v] = E.RUN_LABEL.split('=');
    const compose = [
      'services:',
      '  web:',
      `    image: ${E.IMG}`,
      '    command: ["sleep", "600"]',
      `    labels: {"${k}": "${v}"}`,
      '',
    ].join('\n');
    await p.fill('#np-compose', compose);
    await p.click('details.card button[type=submit]');
    const byProject = { label: [`com.docker.compose.project=${E.PROJECT}`] };
    const q = () => `/containers/json?filters=${encodeURIComponent(JSON.stringify(byProject))}`;
    await waitFor(
      'the project container running on the engine',
      async () => {
        const r = await engine(q());
        return r.body.length === 1 && r.body[0].State === 'running';
      },
      60000,
    );
    await p.waitForSelector(`tr[data-key="${E.PROJECT}"]`, { timeout: 10000 });
    await shot(p, 'projects');
    await go(p, `#/p/${E.PROJECT}`);
    await p.waitForSelector('section[aria-label="Service web"]');
    await shot(p, 'project');
    await p.click('.bar button[data-action=down]');
    await p.click('dialog#confirm button[value=ok]');
    await waitFor(
      'the project gone from the engine',
      async () => (await engine(q() + '&all=1')).body.length === 0,
      60000,
    );
  });

  await check('screenshots_each_page', async () => {
    const p = admin.page;
    for (const [hash, name] of [
      ['#/overview', 'overview'],
      ['#/images', 'images'],
      ['#/networks', 'networks'],
      ['#/volumes', 'volumes'],
      ['#/events', 'events'],
      ['#/audit', 'audit'],
      ['#/scan/' + E.IMG, 'scan'],
    ]) {
      await go(p, hash);
      await p.waitForSelector('main h1');
      await p.waitForTimeout(600);
      await shot(p, name);
    }
    const phone = await open(E.TOK_ADMIN, { viewport: { width: 390, height: 844 } });
    for (const [hash, name] of [
      ['#/containers', 'phone-containers'],
      [`#/c/${E.C_LOG}`, 'phone-container'],
    ]) {
      await go(phone.page, hash);
      await phone.page.waitForTimeout(1500);
      const wide = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      assert(wide <= 400, `${name}: the page is ${wide} px wide on a 390 px phone`);
      await shot(phone.page, name);
    }
    await phone.ctx.close();
    const files = fs.readdirSync(SHOTS).filter(f => f.endsWith('.png'));
    assert(files.length >= 14, `${files.length} screenshots`);
  });

  await check('keyboard_navigation', async () => {
    const p = admin.page;
    await go(p, '#/overview');
    await p.waitForSelector('main h1');
    await p.focus('#nav-overview');
    await p.keyboard.press('Tab');
    const f = await p.evaluate(() => document.activeElement.id);
    assert(f === 'nav-containers', `Tab from Overview went to ${f}`);
    await p.keyboard.press('Enter');
    await p.waitForSelector('#f-name');
    const label = await p.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter(e => !e.labels?.length && !e.getAttribute('aria-label'))
        .map(e => e.id),
    );
    assert(label.length === 0, `inputs without a label: ${label}`);
  });

  await check('visibility_stops_polling', async () => {
    const p = admin.page;
    await go(p, `#/c/${E.C_LOG}`);
    await p.waitForSelector('#chart-cpu');
    let n = 0;
    const count = r => {
      if (r.url().includes('/v1/metrics')) n++;
    };
    p.on('request', count);
    await p.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await p.waitForTimeout(1500);
    n = 0;
    await p.waitForTimeout(3000);
    const hidden = n;
    await p.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await p.waitForTimeout(3000);
    p.off('request', count);
    assert(hidden === 0 && n >= 2, `metrics requests: ${hidden} while hidden, ${n} after shown`);
  });

  await check('no_console_errors', async () => {
    assert(problems.console.length === 0, problems.console.join(' | '));
  });
  await check('same_origin_only', async () => {
    assert(
      problems.foreign.length === 0,
      'requests to other origins: ' + problems.foreign.join(' '),
    );
    assert(problems.csp.length === 0, problems.csp.join(' | '));
  });
} finally {
  await browser.close();
  relay.close();
}
console.log(`# requests cut by ERR_NETWORK_CHANGED (retried by the page): ${problems.netChanged}`);
console.log('done');
