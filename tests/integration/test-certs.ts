// Throwaway certificate authorities and certificates for the TLS tests, made with openssl: keys
// are unencrypted PKCS#8 PEM, which Node, mosquitto and Kafka's PEM keystore all read.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyPair {
  pem: string;
  key: string;
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

/** A self-signed certificate: a CA when `cn` names one, or a rogue leaf no CA vouches for. */
export function selfSigned(dir: string, name: string, cn: string): KeyPair {
  const pair = { pem: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`],
    ...['-keyout', pair.key, '-out', pair.pem],
  );
  return pair;
}

/** A key and a certificate for `cn` signed by `ca`; `san` defaults to `DNS:<cn>`. */
export function issue(dir: string, ca: KeyPair, name: string, cn: string, san = `DNS:${cn}`): KeyPair {
  const pair = { pem: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  const [csr, ext] = [join(dir, `${name}.csr`), join(dir, `${name}.ext`)];
  writeFileSync(ext, `subjectAltName=${san}\n`);
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', pair.key, '-out', csr],
  );
  openssl(
    ...['x509', '-req', '-in', csr, '-CA', ca.pem, '-CAkey', ca.key, '-CAcreateserial', '-days', '1'],
    ...['-extfile', ext, '-out', pair.pem],
  );
  return pair;
}
