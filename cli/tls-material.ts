import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { ConfigError } from '../common/errors.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** Whether Carillon generated the pair on this start. */
  readonly generated: boolean;
}

/**
 * The SIP TLS certificate and key: the configured files, or a self-signed pair kept in the data
 * directory (made on first start, reused afterwards).
 */
export async function loadTlsMaterial(dataDir: string, domain: string, certFile?: string, keyFile?: string): Promise<TlsMaterial> {
  if (certFile !== undefined && keyFile !== undefined) {
    try {
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), generated: false };
    } catch (err) {
      throw new ConfigError(`cannot read TLS certificate/key: ${(err as Error).message}`);
    }
  }
  const dir = path.join(dataDir, 'tls');
  const certPath = path.join(dir, 'sip-cert.pem');
  const keyPath = path.join(dir, 'sip-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), generated: false };
  }
  mkdirSync(dir, { recursive: true });
  const pems = await selfsigned.generate([{ name: 'commonName', value: domain }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: domain }, { type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, generated: true };
}
