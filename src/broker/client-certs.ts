// Device client certificates on the MQTT/TLS listener (MQTT_TLS_CA). The handshake asks for one and
// verifies it against that CA, but lets clients without one through (signs, services, devices that
// log in by password only). At CONNECT, a connection that presented a certificate must log in as
// a name the certificate carries (subject CN or a DNS subjectAltName): the certificate binds the
// identity and auth.ts still checks the password, so neither a copied key nor a leaked secret alone
// is enough.
import type { PeerCertificate, TlsOptions } from 'node:tls';
import { TLSSocket } from 'node:tls';
import type { AuthenticateError, Client } from 'aedes';
import type { Authenticator } from './auth.ts';

type Done = Parameters<Authenticator['authenticate']>[3];

export type CertificateRefusal = 'CERT_UNTRUSTED' | 'CERT_NOT_FOR_USER';

/** Server options: request a certificate; judge it at CONNECT, where the refusal has a reason. */
export function clientCertificateOptions(ca: Buffer): TlsOptions {
  return { ca, requestCert: true, rejectUnauthorized: false };
}

/** The names a certificate vouches for: its subject CN and its DNS subjectAltNames. */
export function certificateNames(cert: PeerCertificate): string[] {
  const names = [cert.subject?.CN ?? []].flat();
  for (const entry of (cert.subjectaltname ?? '').split(', '))
    if (entry.startsWith('DNS:')) names.push(entry.slice(4));
  return names;
}

function refusal(client: Client, username: string | undefined): CertificateRefusal | undefined {
  const conn = (client as unknown as { conn?: unknown }).conn;
  if (!(conn instanceof TLSSocket)) return undefined;
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!conn.authorized) return 'CERT_UNTRUSTED';
  return username !== undefined && certificateNames(cert).includes(username)
    ? undefined
    : 'CERT_NOT_FOR_USER';
}

/** `auth`, refusing (CONNACK 5) a login whose certificate is untrusted or names someone else. */
export function bindClientCertificates<A extends Authenticator>(
  auth: A,
  onRefused: (reason: CertificateRefusal, client: Client, username: string | undefined) => void,
): A {
  return {
    ...auth,
    authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done) {
      const reason = refusal(client, username);
      if (!reason) return auth.authenticate(client, username, password, done);
      onRefused(reason, client, username);
      const err = new Error(`connection refused: ${reason}`) as AuthenticateError;
      err.returnCode = 5;
      done(err, null);
    },
  };
}
