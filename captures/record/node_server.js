'use strict';
// Node `ws` server peer.  Usage: node node_server.js SCENARIO HOST PORT NCONN READYFILE
// Serves NCONN connections for SCENARIO, then exits.  Logs what it sends.

const { WebSocketServer } = require('ws');
const { ConnLog, addr, parseHeaderLines, makeBytes, touch, sleep, watchdog } = require('./common');

const [scenario, host, portStr, nconnStr, readyFile] = process.argv.slice(2);
const port = parseInt(portStr, 10);
const nconn = parseInt(nconnStr, 10);
watchdog(60);

const options = { host, port, perMessageDeflate: false };
switch (scenario) {
  case 'demo':
    options.perMessageDeflate = { threshold: 0 };
    options.handleProtocols = (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false);
    break;
  case 'deflate-takeover':
  case 'deflate-no-takeover':
    // ws answers the client's offer as given (it echoes the offered params).
    options.perMessageDeflate = { threshold: 0 };
    break;
  case 'subprotocol':
    options.handleProtocols = (protocols) => (protocols.has('v1.chat') ? 'v1.chat' : false);
    break;
  case 'refused-403':
    options.verifyClient = (info, cb) => {
      const s = info.req.socket;
      const log = new ConnLog('server', addr(s.remoteAddress, s.remotePort), addr(s.localAddress, s.localPort));
      // ws writes "HTTP/1.1 403 Forbidden" (abortHandshake) and ends the socket.
      log.handshake(403, null, null, 'verifyClient rejected with 403');
      s.once('close', connDone);
      cb(false, 403);
    };
    break;
}

let tlsServer = null;
if (process.env.WSSCOPE_TLS_CERT) {
  // wss:// (record_wss.sh): an https server with the recording's own certificate; its
  // TLS secrets go to the key log (the 'keylog' event gives NSS key log lines).
  const fs = require('fs');
  tlsServer = require('https').createServer({
    cert: fs.readFileSync(process.env.WSSCOPE_TLS_CERT),
    key: fs.readFileSync(process.env.WSSCOPE_TLS_KEY)
  });
  if (process.env.WSSCOPE_KEYLOG) {
    tlsServer.on('keylog', (line) => fs.appendFileSync(process.env.WSSCOPE_KEYLOG, line));
  }
  delete options.host;
  delete options.port;
  options.server = tlsServer;
}
const wss = new WebSocketServer(options);
if (tlsServer) {
  tlsServer.on('listening', () => touch(readyFile));
  tlsServer.listen(port, host);
}
let done = 0;
function connDone() {
  done += 1;
  if (done >= nconn) {
    wss.close();
    setTimeout(() => process.exit(0), 200);
  }
}

wss.on('listening', () => touch(readyFile));
if (tlsServer) {
  const close = wss.close.bind(wss);
  wss.close = () => {
    close();
    tlsServer.close();
  };
}

wss.on('headers', (headers, req) => {
  const s = req.socket;
  const log = new ConnLog('server', addr(s.remoteAddress, s.remotePort), addr(s.localAddress, s.localPort), {
    request_extensions: req.headers['sec-websocket-extensions'] || null,
    request_protocols: req.headers['sec-websocket-protocol'] || null
  });
  const h = parseHeaderLines(headers);
  log.handshake(h.status, h.subprotocol, h.extensions, 'response lines ws wrote (headers event)');
  req.wsscopeLog = log;
});

wss.on('connection', (ws, req) => {
  const log = req.wsscopeLog;
  const state = { closedByMe: false };

  const send = (data, opts = {}) => {
    ws.send(data, opts);
  };
  const sendMsg = (data, binary = false) => {
    log.message(binary ? 'binary' : 'text', data);
    send(data, { binary });
  };
  const ping = (data) => {
    log.ping(data);
    ws.ping(data);
  };
  const close = (code, reason) => {
    state.closedByMe = true;
    log.close(code, reason, 'explicit ws.close(code, reason)');
    ws.close(code, reason);
  };
  // Send one message as several frames.  ws decides the opcode from the first
  // call's `binary` option; the later calls go out as continuation frames.
  const sendFragments = (parts, binary, between = {}) => {
    const whole = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    log.message(binary ? 'binary' : 'text', whole);
    parts.forEach((p, i) => {
      send(p, { binary, fin: i === parts.length - 1 });
      if (between[i] !== undefined) ping(between[i]);
    });
  };

  ws.on('close', (code, reasonBuf) => {
    if (!state.closedByMe) {
      // ws answers a received Close by echoing its code and reason
      // (lib/websocket.js receiverOnConclude: websocket.close(code, reason)).
      if (code === 1005) log.close(null, null, 'ws echo of an empty close');
      else log.close(code, reasonBuf.toString('utf8'), 'ws echo of the client close');
    }
    connDone();
  });

  const echo = (data, isBinary) => sendMsg(data, isBinary);

  switch (scenario) {
    case 'echo':
    case 'deflate-takeover':
    case 'deflate-no-takeover':
      ws.on('message', echo);
      break;

    case 'demo':
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          // reply to the avatar upload with a history message in three frames
          const history = JSON.stringify({
            type: 'history',
            items: [
              { from: 'grace', text: 'welcome back' },
              { from: 'ada', text: 'thanks!' },
              { from: 'grace', text: 'got your avatar (' + data.length + ' bytes)' }
            ]
          });
          const a = Math.floor(history.length / 3);
          sendFragments([history.slice(0, a), history.slice(a, 2 * a), history.slice(2 * a)], false);
          return;
        }
        const msg = JSON.parse(data.toString('utf8'));
        if (msg.type === 'join') {
          sendMsg(JSON.stringify({ type: 'welcome', user: msg.user, online: ['ada', 'grace'] }));
        } else if (msg.type === 'msg') {
          sendMsg(JSON.stringify({ type: 'msg', from: 'grace', text: 'hi ada \u{1F44B}' }));
        }
      });
      break;

    case 'ping-pong':
      ws.on('message', (data) => {
        if (data.toString() === 'status?') {
          sendMsg('ok');
          (async () => {
            await sleep(700); // idle gap
            ping('hb-s3');
            await sleep(100);
            close(1001, 'going away');
          })();
        }
      });
      (async () => {
        await sleep(50);
        ping('hb-s1');
        await sleep(100);
        ping('hb-s2');
      })();
      break;

    case 'close-codes': {
      const plan = { 2: [1001, 'going away'], 3: [1008, 'policy'] };
      ws.on('message', (data) => {
        const n = parseInt(data.toString().split(' ')[1], 10);
        sendMsg(`ack ${n}`);
        if (plan[n]) setTimeout(() => close(plan[n][0], plan[n][1]), 50);
      });
      break;
    }

    case 'fragmented':
      ws.on('message', (data) => {
        if (data.toString() !== 'your turn') return;
        // text in three frames with a ping between the 2nd and 3rd frame
        sendFragments(['part-1 ', 'part-2 ', 'part-3'], false, { 1: 'between-frames' });
        // binary in three frames
        sendFragments([makeBytes(10, 1), makeBytes(200, 2), makeBytes(5, 3)], true);
        // text whose UTF-8 characters are cut across frames:
        // "café ✓" = 63 61 66 c3 | a9 20 e2 | 9c 93
        const bytes = Buffer.from('caf\u00e9 \u2713', 'utf8');
        sendFragments([bytes.subarray(0, 4), bytes.subarray(4, 7), bytes.subarray(7)], false);
        // an empty first frame, then the rest
        sendFragments([Buffer.alloc(0), 'after an empty first frame'], false);
        sendMsg('done');
      });
      break;

    case 'subprotocol':
      ws.on('message', () => sendMsg('v1 says hi'));
      break;

    default:
      console.error('unknown scenario ' + scenario);
      process.exit(2);
  }
});
