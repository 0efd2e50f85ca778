'use strict';
// Node `ws` client peer.  Usage: node node_client.js SCENARIO URL
// Logs what it sends (WSSCOPE_LOG).

const WebSocket = require('ws');
const { ConnLog, addr, makeBytes, makeText, watchdog } = require('./common');

const [scenario, url] = process.argv.slice(2);
watchdog(60);

function open(opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    let res = null;
    const inbox = [];
    const waiters = [];
    ws.on('upgrade', (r) => {
      res = r;
    });
    ws.on('message', (data, isBinary) => {
      const m = { data, isBinary };
      if (waiters.length) waiters.shift()(m);
      else inbox.push(m);
    });
    ws.on('error', reject);
    ws.on('open', () => {
      const s = ws._socket;
      const log = new ConnLog('client', addr(s.localAddress, s.localPort), addr(s.remoteAddress, s.remotePort));
      const h = res.headers;
      log.handshake(res.statusCode, h['sec-websocket-protocol'] || null, h['sec-websocket-extensions'] || null, "'upgrade' event response");
      const recv = () =>
        new Promise((ok, fail) => {
          if (inbox.length) return ok(inbox.shift());
          const t = setTimeout(() => fail(new Error('recv timeout')), 10000);
          waiters.push((m) => {
            clearTimeout(t);
            ok(m);
          });
        });
      resolve({ ws, log, recv });
    });
  });
}

async function echoSizesNs() {
  const { ws, log, recv } = await open({ perMessageDeflate: false });
  for (const n of [0, 125, 126, 65536]) {
    for (const [data, binary] of [
      [makeText(n, n), false],
      [makeBytes(n, n + 1), true]
    ]) {
      log.message(binary ? 'binary' : 'text', data);
      ws.send(data, { binary });
      const m = await recv();
      const expect = typeof data === 'string' ? Buffer.from(data) : data;
      if (m.isBinary !== binary || !m.data.equals(expect)) throw new Error('echo mismatch at ' + n);
    }
  }
  await new Promise((resolve) => {
    ws.on('close', resolve);
    log.close(1000, 'done');
    ws.close(1000, 'done');
  });
}

const scenarios = { 'echo-sizes-ns': echoSizesNs };
scenarios[scenario]().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  }
);
