// MQTT broker peer: aedes 1.2.0 behind a ws 8.23.0 WebSocketServer, set up as in
// aedes' docs/Examples.md ("MQTT server over WebSocket": createWebSocketStream +
// aedes.handle).  ws picks the first subprotocol the client offers (MQTT.js
// offers only `mqtt`).  Nothing here writes MQTT bytes: aedes does; proto_log.js
// logs the WebSocket messages ws writes for it.
//   Usage: node mqtt_broker.mjs HOST PORT NCONN READYFILE
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

const require = createRequire(import.meta.url);
const { touch, watchdog } = require('./common');
const { hookServer } = require('./proto_log');

const [host, portStr, nconnStr, readyFile] = process.argv.slice(2);
const nconn = parseInt(nconnStr, 10);
watchdog(60);

const aedes = await Aedes.createBroker();
aedes.on('client', (c) => console.log(`client ${c.id} connected`));
aedes.on('subscribe', (subs, c) => console.log(`${c.id} subscribed ${subs.map((s) => `${s.topic} q${s.qos}`).join(', ')}`));
aedes.on('publish', (p, c) => c && console.log(`${c.id} published ${p.topic} q${p.qos} ${p.payload}`));
aedes.on('clientDisconnect', (c) => console.log(`client ${c.id} disconnected`));

const httpServer = createServer();
const wss = new WebSocketServer({ server: httpServer }); // as in aedes' example; ws 8 servers decline permessage-deflate by default
let done = 0;
hookServer(wss, (websocket, req) => {
  const stream = createWebSocketStream(websocket);
  aedes.handle(stream, req);
  websocket.on('close', () => {
    done += 1;
    if (done >= nconn) {
      setTimeout(() => {
        wss.close();
        httpServer.close();
        aedes.close(() => process.exit(0));
      }, 300);
    }
  });
});
httpServer.listen(parseInt(portStr, 10), host, () => touch(readyFile));
