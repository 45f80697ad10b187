// MQTT listeners: TCP, optional TLS, and WebSocket at /mqtt on machi's HTTP server (for browsers).
// They keep every connection they accepted, so a stop never waits for a client to leave.
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Config } from '../config/config.ts';
import type { HttpApp } from '../web/http.ts';
import { guardPacketSize, maxPacketBytes } from './packet-guard.ts';

export const WEBSOCKET_PATH = '/mqtt';

export interface Listeners {
  /** Bound ports (useful when configured as 0). */
  mqttPort: number;
  tlsPort: number | undefined;
  /** No new connections from now on (TCP, TLS, WebSocket); open ones stay. */
  stopAccepting(): void;
  /** Ends every connection still open (aedes closes the clients it knows first) and the servers. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function openListeners(
  aedes: Aedes,
  config: Config,
  http: HttpApp,
  onOversized: (declaredBytes: number) => void,
): Promise<Listeners> {
  const limit = maxPacketBytes(config.mqtt.maxPayloadBytes);
  let accepting = true;
  /** Includes connections aedes does not know yet (no CONNECT so far), which it would not close. */
  const open = new Set<Duplex>();
  const accept = (stream: Duplex, req?: unknown) => {
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    aedes.handle(stream as never, req as never);
    guardPacketSize(stream, limit, onOversized);
  };
  const servers: Server[] = [];
  const tcp = createTcpServer(accept);
  servers.push(tcp);
  const mqttPort = await listen(tcp, config.mqtt.port, config.mqtt.host);

  let tlsPort: number | undefined;
  const tls = config.mqtt.tls;
  if (tls) {
    const secure = createTlsServer(
      { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) },
      accept,
    );
    servers.push(secure);
    tlsPort = await listen(secure, tls.port, config.mqtt.host);
  }

  const wss = new WebSocketServer({ noServer: true });
  http.upgrade(WEBSOCKET_PATH, (req, socket, head) => {
    if (!accepting) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      accept(createWebSocketStream(ws), req);
    });
  });

  // A server's close callback fires once its last connection has ended.
  let closed: Promise<unknown> | undefined;
  const stopAccepting = () => {
    accepting = false;
    closed ??= Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  };
  return {
    mqttPort,
    tlsPort,
    stopAccepting,
    async close() {
      stopAccepting();
      for (const stream of open) stream.destroy();
      wss.close();
      await closed;
    },
  };
}
