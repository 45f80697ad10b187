// MQTT listeners: TCP (unless MQTT_PLAINTEXT=false), optional TLS (asking devices for a client
// certificate when MQTT_TLS_CA is set, see client-certs.ts), and WebSocket at /mqtt on machi's HTTP
// server (for browsers; WSS when that server has TLS).
// They keep every connection they accepted, so a stop never waits for a client to leave.
// At the door: at most MACHI_MQTT_MAX_CONNECTIONS_PER_IP open connections per source address;
// WebSocket frames no larger than the MQTT packet limit (ws refuses a bigger frame from its header,
// before buffering it) and browsers only from the page's own origin or MACHI_MQTT_WS_ORIGINS.

import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes, Client } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Config } from '../config/config.ts';
import type { HttpApp } from '../http/app.ts';
import { plainAddress } from '../lib/address.ts';
import { WEBSOCKET_PATH } from '../schemas/topics.ts';
import { clientCertificateOptions } from './client-certs.ts';
import { ConnectionsPerAddress, originAllowed } from './door-limits.ts';
import { guardPacketSize, maxPacketBytes } from './packet-guard.ts';

/** Each accepted stream's source address (a WebSocket stream has none of its own). */
const addresses = new WeakMap<object, string>();

/** The source address of an aedes client's connection. */
export function remoteAddressOf(client: Client): string {
  const conn = (client as unknown as { conn?: object }).conn;
  return (conn && addresses.get(conn)) ?? 'unknown';
}

export interface Listeners {
  /** Bound ports (useful when configured as 0); mqttPort undefined with plaintext off. */
  mqttPort: number | undefined;
  tlsPort: number | undefined;
  /** No new connections from now on (TCP, TLS, WebSocket); open ones stay. */
  stopAccepting(): void;
  /** Ends every connection still open (aedes closes the clients it knows first) and the servers. */
  close(): Promise<void>;
}

/**
 * Connections the kernel queues for accept (capped by net.core.somaxconn, 4096 by default since
 * Linux 5.4). Node's default, 511, overflowed when 4,000 devices came back at once after their
 * broker died (bench reconnect-storm): a dropped SYN is retried by TCP only after 1, 3, 7, 15… s.
 */
export const LISTEN_BACKLOG = 4096;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
  onRefused: (reason: 'CONNECTIONS_PER_IP' | 'WS_ORIGIN' | 'WS_FRAME_TOO_LARGE', address: string) => void,
): Promise<Listeners> {
  const limit = maxPacketBytes(config.mqtt.maxPayloadBytes);
  const limits = config.mqtt.limits;
  const perAddress = new ConnectionsPerAddress(limits.connectionsPerIp);
  let accepting = true;
  /** Includes connections aedes does not know yet (no CONNECT so far), which it would not close. */
  const open = new Set<Duplex>();
  /** Counted against its address until closed; false (stream destroyed) when the address is full. */
  const admit = (stream: Duplex, address: string): boolean => {
    if (!perAddress.add(address)) {
      onRefused('CONNECTIONS_PER_IP', address);
      stream.destroy();
      return false;
    }
    stream.once('close', () => perAddress.remove(address));
    return true;
  };
  const accept = (stream: Duplex, address: string, req?: unknown) => {
    addresses.set(stream, address);
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    aedes.handle(stream as never, req as never);
    guardPacketSize(stream, limit, onOversized);
  };
  const acceptSocket = (socket: Duplex & { remoteAddress?: string }) => {
    const address = plainAddress(socket.remoteAddress);
    if (admit(socket, address)) accept(socket, address);
  };
  const servers: Server[] = [];
  let mqttPort: number | undefined;
  if (config.mqtt.plaintext) {
    const tcp = createTcpServer(acceptSocket);
    servers.push(tcp);
    mqttPort = await listen(tcp, config.mqtt.port, config.mqtt.host);
  }

  let tlsPort: number | undefined;
  const tls = config.mqtt.tls;
  if (tls) {
    const secure = createTlsServer(
      {
        cert: readFileSync(tls.certPath),
        key: readFileSync(tls.keyPath),
        ...(tls.clientCaPath ? clientCertificateOptions(readFileSync(tls.clientCaPath)) : {}),
      },
      acceptSocket,
    );
    servers.push(secure);
    tlsPort = await listen(secure, tls.port, config.mqtt.host);
  }

  // A frame may hold one whole packet at the limit plus its fixed header (at most 5 bytes).
  const wss = new WebSocketServer({ noServer: true, maxPayload: limit + 5 });
  http.upgrade(WEBSOCKET_PATH, (req, socket, head) => {
    if (!accepting) return void socket.destroy();
    const address = plainAddress(req.socket.remoteAddress);
    if (!originAllowed(req, limits.wsOrigins)) {
      onRefused('WS_ORIGIN', address);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!admit(socket, address)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') onRefused('WS_FRAME_TOO_LARGE', address);
      });
      accept(createWebSocketStream(ws), address, req);
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
