import crypto from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/** SHA-256 (or HMAC-SHA256 with a secret) in the shape @smithy/signature-v4 asks for, on Node's crypto. */
export class Sha256 {
  readonly #h: crypto.Hash | crypto.Hmac;
  constructor(secret?: SourceData) {
    this.#h = secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', bytes(secret));
  }
  update(d: SourceData): void {
    this.#h.update(bytes(d));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#h.digest()));
  }
}
