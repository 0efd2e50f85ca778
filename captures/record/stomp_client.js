'use strict';
// STOMP client peer: @stomp/stompjs 7.5.0 over ws 8.23.0 in Node.  stompjs
// creates the WebSocket itself (`new WebSocket(brokerURL, ['v12.stomp',
// 'v11.stomp', 'v10.stomp'])`); the global WebSocket it uses is ws's, wrapped by
// proto_log.js only to log the frames ws writes.
//   Usage: node stomp_client.js URL
const WebSocket = require('ws');
const { loggedClientClass } = require('./proto_log');
globalThis.WebSocket = loggedClientClass(WebSocket);
const { Client } = require('@stomp/stompjs');
const { watchdog, sleep } = require('./common');

const [url] = process.argv.slice(2);
watchdog(60);

async function main() {
  const client = new Client({
    brokerURL: url,
    connectHeaders: { host: '127.0.0.1', login: 'ada', passcode: 'lovelace' },
    heartbeatOutgoing: 500, // offered "heart-beat:500,0"
    heartbeatIncoming: 0,
    reconnectDelay: 0,
    debug: (s) => console.log('stompjs: ' + s.split('\n')[0])
  });
  const inbox = [];
  const waiters = [];
  const next = () =>
    new Promise((resolve, reject) => {
      if (inbox.length) return resolve(inbox.shift());
      const t = setTimeout(() => reject(new Error('no MESSAGE')), 5000);
      waiters.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  await new Promise((resolve, reject) => {
    client.onConnect = resolve;
    client.onStompError = (f) => reject(new Error('STOMP ERROR ' + f.headers.message));
    client.onWebSocketError = (e) => reject(e);
    client.activate();
  });
  const sub = client.subscribe('/topic/chat', (m) => {
    console.log(`MESSAGE ${m.headers['content-type']} ${m.body}`);
    if (waiters.length) waiters.shift()(m);
    else inbox.push(m);
  });
  client.publish({ destination: '/topic/chat', body: 'hello from stompjs', headers: { 'content-type': 'text/plain' } });
  await next();
  client.publish({
    destination: '/topic/chat',
    body: JSON.stringify({ user: 'ada', text: 'any news?' }),
    headers: { 'content-type': 'application/json' }
  });
  await next();
  await sleep(1300); // idle: stompjs sends its heart-beats (an EOL every 500 ms)
  sub.unsubscribe();
  await client.deactivate(); // DISCONNECT receipt:close-N, RECEIPT, then WebSocket close
  await sleep(300);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  }
);
