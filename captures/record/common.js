'use strict';
// Shared helpers for the Node peers used by record.sh: each peer appends what
// IT did (messages/pings/close it sent, the handshake it saw) to a JSONL log
// that combine.py turns into captures/expected/<name>.json.

const crypto = require('crypto');
const fs = require('fs');

const LOG = process.env.WSSCOPE_LOG;
if (!LOG) throw new Error('WSSCOPE_LOG is not set');

function write(obj) {
  obj.t = Date.now() / 1000;
  obj.pid = process.pid;
  fs.appendFileSync(LOG, JSON.stringify(obj) + '\n');
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function addr(host, port) {
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

class ConnLog {
  constructor(side, client, server, extra = {}) {
    this.side = side;
    this.client = client;
    this.server = server;
    this.event('open', extra);
  }
  event(kind, fields = {}) {
    write({ kind, side: this.side, client: this.client, server: this.server, ...fields });
  }
  message(opcode, payload) {
    const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
    this.event('message', { opcode, len: buf.length, sha256: sha256(buf) });
  }
  ping(payload) {
    const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload || []);
    this.event('ping', { len: buf.length });
  }
  close(code, reason, how = 'explicit') {
    this.event('close', { code, reason, how });
  }
  handshake(status, subprotocol, extensions, how = '') {
    this.event('handshake', { status, subprotocol, extensions, how });
  }
  noHandshake() {
    this.event('no_handshake');
  }
}

// Parse the response lines ws is about to write (the WebSocketServer 'headers' event).
function parseHeaderLines(lines) {
  const status = parseInt(lines[0].split(' ')[1], 10);
  const get = (name) => {
    const vals = lines
      .slice(1)
      .filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
      .map((l) => l.slice(name.length + 1).trim());
    return vals.length ? vals.join(', ') : null;
  };
  return {
    status,
    subprotocol: get('Sec-WebSocket-Protocol'),
    extensions: get('Sec-WebSocket-Extensions')
  };
}

// Deterministic payloads (a simple LCG; contents only need to be reproducible).
function makeBytes(n, seed) {
  const out = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const UNITS = ['node ', 'ws ', 'frame ', 'caf\u00e9 ', '\u00fcber ', '\u2713 ', '\u20ac', '\u{1F680}', '42 ', '\n'];
function makeText(n, seed) {
  let x = (seed * 2246822519) >>> 0;
  let s = '';
  let size = 0;
  while (size < n) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    let unit = UNITS[(x >>> 16) % UNITS.length];
    let b = Buffer.byteLength(unit);
    if (size + b > n) {
      unit = 'x'.repeat(n - size);
      b = n - size;
    }
    s += unit;
    size += b;
  }
  if (Buffer.byteLength(s) !== n) throw new Error('makeText size mismatch');
  return s;
}

function touch(path) {
  fs.writeFileSync(path, String(process.pid));
}

function waitForFile(path, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (fs.existsSync(path)) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${path} did not appear`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every Node peer ends by itself even if something goes wrong.
function watchdog(seconds) {
  setTimeout(() => {
    console.error(`watchdog: giving up after ${seconds}s`);
    process.exit(3);
  }, seconds * 1000).unref();
}

module.exports = { ConnLog, sha256, addr, parseHeaderLines, makeBytes, makeText, touch, waitForFile, sleep, watchdog };
