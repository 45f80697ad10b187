// MQTT listeners: TCP, optional TLS, and WebSocket at /mqtt on machi's HTTP server (for browsers).
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function openListeners(
  aedes: Aedes,
  config: Config,
  http: HttpApp,
  onOversized: (declaredBytes: number) => void,
): Promise<Listeners> {
  const limit = maxPacketBytes(config.mqtt.maxPayloadBytes);
  const accept = (stream: Duplex, req?: unknown) => {
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
    wss.handleUpgrade(req, socket, head, (ws) => {
      accept(createWebSocketStream(ws), req);
    });
  });

  return {
    mqttPort,
    tlsPort,
    async close() {
      await Promise.all(servers.map(closeServer));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
