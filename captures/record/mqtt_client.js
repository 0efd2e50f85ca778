'use strict';
// MQTT client peer: MQTT.js 5.16.0 over WebSocket (ws 8.23.0).  MQTT.js builds
// the WebSocket itself (URL, subprotocol `mqtt`); its `createWebsocket` option is
// only used to hand it a ws WebSocket whose frames proto_log.js logs.
//   Usage: node mqtt_client.js URL
const WebSocket = require('ws');
const mqtt = require('mqtt');
const { watchdog, sleep } = require('./common');
const { loggedClientClass } = require('./proto_log');

const [url] = process.argv.slice(2);
watchdog(60);
const LoggedWebSocket = loggedClientClass(WebSocket);

const TOPIC = 'sensors/kitchen/temp';

async function main() {
  let socket = null;
  const client = mqtt.connect(url, {
    protocolVersion: 4, // MQTT 3.1.1 (subprotocol `mqtt`)
    clientId: 'wsscope-kitchen-1',
    clean: true,
    keepalive: 1, // seconds: an idle second makes MQTT.js send PINGREQ
    reconnectPeriod: 0,
    connectTimeout: 5000,
    createWebsocket: (u, protocols, opts) => (socket = new LoggedWebSocket(u, protocols, opts.wsOptions)),
    manualConnect: true // connect() below, once the listeners are in place
  });
  const received = [];
  const waiters = [];
  client.on('message', (topic, payload, packet) => {
    console.log(`message ${topic} q${packet.qos} ${payload}`);
    received.push(payload.toString());
    while (waiters.length && waiters[0].n <= received.length) waiters.shift().resolve();
  });
  const waitCount = (n) =>
    new Promise((resolve, reject) => {
      if (received.length >= n) return resolve();
      waiters.push({ n, resolve });
      setTimeout(() => reject(new Error(`only ${received.length} of ${n} messages`)), 5000).unref();
    });
  // MQTT.js's own view of the packets, for subproto.py to compare with the bytes
  // (logged at the end: MQTT.js hands CONNECT to the stream before the socket is open)
  const libPackets = [];
  client.on('packetsend', (p) => {
    console.log(`> ${p.cmd}`);
    libPackets.push({ dir: 'sent', name: p.cmd.toUpperCase(), topic: p.topic || null });
  });
  client.on('packetreceive', (p) => {
    console.log(`< ${p.cmd}`);
    libPackets.push({ dir: 'received', name: p.cmd.toUpperCase(), topic: p.topic || null });
  });
  client.on('error', (e) => {
    console.error('mqtt error', e);
    process.exit(1);
  });
  const pingresp = () =>
    new Promise((resolve) => {
      const f = (p) => {
        if (p.cmd === 'pingresp') {
          client.off('packetreceive', f);
          resolve();
        }
      };
      client.on('packetreceive', f);
    });

  const connected = new Promise((resolve) => client.once('connect', resolve));
  client.connect();
  await connected;
  await client.subscribeAsync('sensors/+/temp', { qos: 1 });
  await client.publishAsync(TOPIC, JSON.stringify({ c: 21.5 }), { qos: 0 });
  await waitCount(1);
  await client.publishAsync(TOPIC, JSON.stringify({ c: 21.75 }), { qos: 1 }); // resolves on PUBACK
  await waitCount(2);
  // stay idle for a keepalive period: MQTT.js sends PINGREQ, aedes answers PINGRESP
  const t0 = Date.now();
  await pingresp();
  console.log(`PINGRESP after ${Date.now() - t0} ms idle`);
  await sleep(100);
  await client.publishAsync('sensors/hall/temp', JSON.stringify({ c: 19.25 }), { qos: 0 }); // matches sensors/+/temp too
  await waitCount(3);
  await client.publishAsync(TOPIC, JSON.stringify({ c: 22, unit: 'C' }), { qos: 1 });
  await waitCount(4);
  await client.unsubscribeAsync('sensors/+/temp');
  await client.endAsync(); // DISCONNECT, then MQTT.js ends the WebSocket stream
  await sleep(500); // let ws finish its closing handshake
  for (const p of libPackets) socket.wsscopeLog.event('lib_packet', p);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  }
);
