// The browser half of bench/ui.sh, in Debian's chromium through playwright-core.
//   node bench/ui.mjs load URL TOKEN N      a cold load of the containers page (empty cache, the
//       token already in the tab's sessionStorage): bytes on the wire (CDP encodedDataLength,
//       headers included) and the time from navigation to the first full render (N rows drawn,
//       the sparklines of the rows in view drawn from /v1/metrics). Prints one JSON line.
//   node bench/ui.mjs poll URL TOKEN SECS ID...   one container page per ID, polling as the
//       dashboard does (every second), for SECS seconds; prints the requests they made.
import { chromium } from 'playwright-core';
import { relayOut } from '../tests/ui/netns.mjs';

const [mode, url, token, arg, ...ids] = process.argv.slice(2);
// As in the tests: the browser in a network namespace of its own, cmsd through a relay.
const relay = relayOut(Number(new URL(url).port));
await relay.ready;
const browser = await chromium.launch({
  executablePath: new URL('../tests/ui/chromium-netns.sh', import.meta.url).pathname,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  env: { ...process.env, RELAY_PORT: new URL(url).port, RELAY_SOCK: relay.sock },
});

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

async function signedIn(ctx) {
  await ctx.addInitScript(t => sessionStorage.setItem('cmsd.token', t), token);
  return ctx.newPage();
}

try {
  if (mode === 'load') {
    const n = Number(arg);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await signedIn(ctx);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    let bytes = 0,
      requests = 0;
    cdp.on('Network.loadingFinished', e => {
      bytes += e.encodedDataLength;
      requests++;
    });
    const t0 = Date.now();
    await goto(page, url + '/ui/#/containers');
    await page.waitForFunction(
      want => {
        const rows = [...document.querySelectorAll('table tbody tr[data-key]')];
        if (rows.length < want) return false;
        const seen = rows.filter(
          r =>
            r.getBoundingClientRect().top < innerHeight &&
            r.querySelector('td[data-col=state]').textContent === 'running',
        );
        const s = window.__cmsdCharts.sparks;
        return seen.every(r => (s[r.dataset.key]?.cpu.length || 0) >= 2);
      },
      n,
      { timeout: 60000, polling: 20 },
    );
    const ms = Date.now() - t0;
    const nav = await page.evaluate(
      () => performance.getEntriesByType('navigation')[0].responseStart,
    );
    await page.waitForTimeout(300); // let the last loadingFinished events arrive
    console.log(JSON.stringify({ bytes, requests, render_ms: ms, first_byte_ms: Math.round(nav) }));
  } else if (mode === 'poll') {
    const secs = Number(arg);
    let requests = 0;
    const pages = [];
    // A context per page, as separate browsers would be: each page holds a log stream open, and
    // a browser keeps at most 6 HTTP/1.1 connections per origin across its tabs.
    for (const id of ids) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      ctx.on('request', r => {
        if (r.url().includes('/v1/')) requests++;
      });
      const p = await signedIn(ctx);
      await goto(p, `${url}/ui/#/c/${id}`);
      pages.push(p);
    }
    await Promise.all(
      pages.map(p =>
        p.waitForFunction(() => (window.__cmsdCharts.container?.t.length || 0) > 0, null, {
          timeout: 30000,
        }),
      ),
    );
    console.error(`${pages.length} container pages open and polling`);
    requests = 0;
    await new Promise(r => setTimeout(r, secs * 1000));
    console.log(JSON.stringify({ pages: pages.length, api_requests: requests }));
  } else {
    throw new Error('usage: bench/ui.mjs load|poll ...');
  }
} finally {
  await browser.close();
  relay.close();
}
