'use strict';
// Transport hooks for the subprotocol captures (mqtt, stomp), where a third-party
// library (MQTT.js, aedes, @stomp/stompjs, stomp-broker-js) talks to a `ws`
// WebSocket and the application never sees the bytes.  We do not change what the
// libraries do: we only wrap the `ws` Sender of each WebSocket (ws 8.23.0, and the
// ws 5.2.8 that stomp-broker-js brings along), which is where every frame ws
// writes starts from:
//   Sender#send(data, options)  -> one data message (options.binary: opcode; FIN=1)
//   Sender#ping(data)           -> one ping frame
//   Sender#close(code, reason)  -> the Close frame (code undefined: empty payload)
// and listen to 'message' for what each side received (a cross-check only).
// Message events carry the payload (base64) so that subproto.py can list the
// MQTT packets / STOMP frames they contain.

const { ConnLog, addr, parseHeaderLines, sha256 } = require('./common');

function toBuffer(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuffer));
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error('unexpected payload type ' + Object.prototype.toString.call(data));
}

// Wrap the Sender of an open WebSocket (`ws` 5 or 8) and log every frame it writes.
function hookSocket(ws, log) {
  const sender = ws._sender;
  if (!sender) throw new Error('hookSocket: the WebSocket has no Sender yet');
  const origSend = sender.send;
  sender.send = function (data, options, cb) {
    if (options && options.fin === false) throw new Error('fragmented send: not expected here');
    const buf = toBuffer(data);
    log.event('message', {
      opcode: options && options.binary ? 'binary' : 'text',
      len: buf.length,
      sha256: sha256(buf),
      payload_b64: buf.toString('base64')
    });
    return origSend.call(this, data, options, cb);
  };
  const origPing = sender.ping;
  sender.ping = function (data, mask, cb) {
    log.ping(data === undefined ? Buffer.alloc(0) : toBuffer(data));
    return origPing.call(this, data, mask, cb);
  };
  const origClose = sender.close;
  sender.close = function (code, data, mask, cb) {
    if (code === undefined) {
      log.close(null, '', 'ws Sender.close without a code: empty Close payload');
    } else {
      log.close(code, data === undefined ? '' : toBuffer(data).toString('utf8'), 'ws Sender.close(code, reason)');
    }
    return origClose.call(this, code, data, mask, cb);
  };
  ws.on('message', (data, isBinary) => {
    // ws 8: (Buffer|ArrayBuffer|Buffer[], isBinary); ws 5: (string for text | Buffer)
    const buf = toBuffer(data);
    const binary = isBinary === undefined ? typeof data !== 'string' : isBinary;
    log.event('recv', { opcode: binary ? 'binary' : 'text', len: buf.length, sha256: sha256(buf), payload_b64: buf.toString('base64') });
  });
  ws.on('close', (code, reason) => {
    log.event('recv_close', { code, reason: reason === undefined ? null : String(reason) });
  });
}

// A `ws` (8.x) WebSocket subclass that logs its handshake and every frame it
// writes.  Given to MQTT.js through its `createWebsocket` option and to
// @stomp/stompjs as the global WebSocket, so that each library itself chooses
// URL, offered subprotocols and options.
function loggedClientClass(WebSocket) {
  return class LoggedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      let res = null;
      this.on('upgrade', (r) => {
        res = r;
      });
      // registered before any listener of the library: runs first on 'open'
      this.on('open', () => {
        const s = this._socket;
        const log = new ConnLog('client', addr(s.localAddress, s.localPort), addr(s.remoteAddress, s.remotePort), {
          offered_protocols: args[1] === undefined ? null : [].concat(args[1]).join(', ')
        });
        const h = res.headers;
        log.handshake(res.statusCode, h['sec-websocket-protocol'] || null, h['sec-websocket-extensions'] || null, "'upgrade' event response");
        this.wsscopeLog = log;
        hookSocket(this, log);
      });
    }
  };
}

// Server side: log the handshake response (the 'headers' event: the lines ws is
// about to write) and hook every accepted WebSocket.  `wss` is a ws 5 or 8
// WebSocketServer; call before any client connects.
function hookServer(wss, onConn) {
  wss.on('headers', (headers, req) => {
    const s = req.socket;
    const log = new ConnLog('server', addr(s.remoteAddress, s.remotePort), addr(s.localAddress, s.localPort), {
      request_protocols: req.headers['sec-websocket-protocol'] || null,
      request_extensions: req.headers['sec-websocket-extensions'] || null
    });
    const h = parseHeaderLines(headers);
    log.handshake(h.status, h.subprotocol, h.extensions, 'response lines ws wrote (headers event)');
    req.wsscopeLog = log;
  });
  wss.on('connection', (ws, req) => {
    hookSocket(ws, req.wsscopeLog);
    if (onConn) onConn(ws, req);
  });
}

module.exports = { hookSocket, hookServer, loggedClientClass, toBuffer };
