// Chromium aborts every request in flight when a network interface comes or goes
// (ERR_NETWORK_CHANGED), and the engines add and remove veths and bridges all the time while
// the suite runs. So the browser runs in a network namespace of its own (chromium-netns.sh),
// where nothing changes, and reaches cmsd through two relays joined by a unix socket (which
// does not belong to a network namespace):
//   browser -> 127.0.0.1:PORT in its namespace -> relay "in" -> SOCK -> relay "out" (here, in
//   the host's namespace) -> cmsd at 127.0.0.1:PORT.
// The page's origin stays http://127.0.0.1:PORT, the same as cmsd's.
//   import { relayOut } from './netns.mjs': relayOut(port) -> {sock, close()} (host side)
//   node netns.mjs in PORT SOCK: the namespace side (chromium-netns.sh starts it)
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function pipe(a, b) {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
  a.on('close', end);
  b.on('close', end);
}

export function relayOut(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmsd-ui-'));
  const sock = path.join(dir, 'relay.sock');
  const server = net.createServer(c => pipe(c, net.connect(port, '127.0.0.1')));
  server.listen(sock);
  return {
    sock,
    ready: new Promise(r => server.on('listening', r)),
    close() {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The namespace side: ends when chromium (its parent) does.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'in') {
  const [port, sock] = process.argv.slice(3);
  const ppid = process.ppid;
  net.createServer(c => pipe(c, net.connect(sock))).listen(Number(port), '127.0.0.1');
  setInterval(() => {
    if (process.ppid !== ppid) process.exit(0);
  }, 1000).unref();
  setInterval(() => {}, 1 << 30);
}
