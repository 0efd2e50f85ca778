'use strict';
// STOMP broker peer: stomp-broker-js 1.3.0 (a STOMP 1.1 broker over WebSocket;
// its own ws 5.2.8 WebSocketServer, which picks the first subprotocol offered).
// The application embedding it does what the package's README shows: it
// subscribes to /topic/chat itself (`stompServer.subscribe`) and answers every
// chat message with `stompServer.send`, which the broker delivers as a MESSAGE
// frame to the client's subscription (the broker never delivers a client's
// SEND back to that same client).  Heart-beats: the broker asks the client for
// one every 500 ms (`heartbeat: [0, 500]`).  Nothing here writes STOMP bytes;
// proto_log.js logs the WebSocket messages ws writes for the broker.
//   Usage: node stomp_broker.js HOST PORT NCONN READYFILE
const http = require('http');
const StompServer = require('stomp-broker-js');
const { touch, watchdog } = require('./common');
const { hookServer } = require('./proto_log');

const [host, portStr, nconnStr, readyFile] = process.argv.slice(2);
const nconn = parseInt(nconnStr, 10);
watchdog(60);

const server = http.createServer();
const stomp = new StompServer({ server, path: '/stomp', heartbeat: [0, 500] });
let done = 0;
hookServer(stomp.socket, (ws) => {
  ws.on('close', () => {
    done += 1;
    if (done >= nconn) {
      setTimeout(() => {
        stomp.socket.close();
        server.close();
        process.exit(0);
      }, 300);
    }
  });
});
stomp.on('connected', (sessionId, headers) => console.log(`CONNECT ${sessionId} accept-version=${headers['accept-version']} heart-beat=${headers['heart-beat']}`));
stomp.on('subscribe', (sub) => console.log(`SUBSCRIBE ${sub.id} ${sub.topic}`));
stomp.on('unsubscribe', (sub) => console.log(`UNSUBSCRIBE ${sub.id} ${sub.topic}`));
stomp.on('disconnected', (sessionId) => console.log(`disconnected ${sessionId}`));

// the "bot" of the chat application, living in the broker process
let n = 0;
stomp.subscribe('/topic/chat', (body, headers) => {
  n += 1;
  console.log(`bot got ${headers['content-type']} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  if (headers['content-type'] === 'application/json') {
    const msg = typeof body === 'string' ? JSON.parse(body) : body;
    stomp.send('/topic/chat', { destination: '/topic/chat', 'content-type': 'application/json' },
      JSON.stringify({ from: 'bot', re: msg.text, n }));
  } else {
    stomp.send('/topic/chat', { destination: '/topic/chat', 'content-type': 'text/plain' }, `bot: got "${body}"`);
  }
});

server.listen(parseInt(portStr, 10), host, () => touch(readyFile));
