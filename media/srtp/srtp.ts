import crypto from 'node:crypto';

/**
 * SRTP and SRTCP (RFC 3711) for the SDES suites voice connectors negotiate (RFC 4568):
 * AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 — AES-128 in counter mode, HMAC-SHA1
 * authentication (80-bit tags; the _32 suite shortens only SRTP's tag, SRTCP keeps 80 bits),
 * key derivation rate 0, rollover counter tracked per SSRC (RFC 3711 §3.3.1), a 64-packet replay
 * window on the receiving side.
 *
 * This is the TypeScript implementation the socket relay uses; node:crypto does the AES and
 * HMAC, so each packet costs a cipher and an HMAC object (the native mover is the path for load).
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** Master key (16 bytes) and master salt (14 bytes), as SDES carries them (`inline:` base64 of the 30 bytes). */
export interface SrtpMasterKey {
  readonly key: Buffer;
  readonly salt: Buffer;
}

export interface SessionKeys {
  readonly encryption: Buffer;
  readonly auth: Buffer;
  readonly salt: Buffer;
}

const LABEL = { rtpEncryption: 0, rtpAuth: 1, rtpSalt: 2, rtcpEncryption: 3, rtcpAuth: 4, rtcpSalt: 5 } as const;

/** RFC 3711 §4.3.1 key derivation with key_derivation_rate 0: AES-CM over (label XOR salt) · 2^16. */
export function deriveKey(master: SrtpMasterKey, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  master.salt.copy(iv, 0, 0, 14);
  // key_id = label || r (r = 0 with a derivation rate of 0), right-aligned on the 112-bit salt.
  iv[7] = (iv[7] as number) ^ label;
  const c = crypto.createCipheriv('aes-128-ctr', master.key, iv);
  return c.update(Buffer.alloc(length));
}

export function sessionKeys(master: SrtpMasterKey, rtcp: boolean): SessionKeys {
  return {
    encryption: deriveKey(master, rtcp ? LABEL.rtcpEncryption : LABEL.rtpEncryption, 16),
    auth: deriveKey(master, rtcp ? LABEL.rtcpAuth : LABEL.rtpAuth, 20),
    salt: deriveKey(master, rtcp ? LABEL.rtcpSalt : LABEL.rtpSalt, 14),
  };
}

/** RFC 3711 §4.1.1: IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16). */
export function counterIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Math.floor(index / 0x1_0000_0000) & 0xffff;
  const lo = index >>> 0;
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ hi) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
  return iv;
}

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  return crypto.createCipheriv('aes-128-ctr', key, iv).update(data);
}

function hmac(key: Buffer, parts: readonly Buffer[], length: number): Buffer {
  const h = crypto.createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, length);
}

/** Length of an RTP header with its CSRCs and extension, or -1 when the packet is too short for it. */
export function rtpHeaderLength(p: Buffer): number {
  if (p.length < 12) return -1;
  let n = 12 + 4 * ((p[0] as number) & 0x0f);
  if (((p[0] as number) & 0x10) !== 0) {
    if (p.length < n + 4) return -1;
    n += 4 + 4 * p.readUInt16BE(n + 2);
  }
  return n <= p.length ? n : -1;
}

export type Unprotected = { readonly ok: true; readonly packet: Buffer } | { readonly ok: false; readonly why: 'short' | 'auth' | 'replay' };

interface StreamState {
  /** Highest sequence number seen (s_l) and the rollover counter with it. */
  seq: number;
  roc: number;
  /** Highest packet index accepted, and a bitmap of the 64 before it (bit 0 = highest). */
  top: number;
  window: bigint;
}

/**
 * One direction of one SRTP session: protects packets Carillon sends with its key, or checks
 * and decrypts packets it receives with the peer's key. RTCP shares the master key.
 */
export class SrtpContext {
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #tagLength: number;
  readonly #streams = new Map<number, StreamState>();
  #rtcpIndex = 0;
  readonly #rtcpSeen = new Map<number, { top: number; window: bigint }>();

  constructor(suite: SrtpSuite, master: SrtpMasterKey) {
    this.#rtp = sessionKeys(master, false);
    this.#rtcp = sessionKeys(master, true);
    this.#tagLength = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
  }

  /** RTP → SRTP (sender side: the rollover counter advances when the sequence number wraps). */
  protectRtp(p: Buffer): Buffer | undefined {
    const h = rtpHeaderLength(p);
    if (h < 0) return undefined;
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    let s = this.#streams.get(ssrc);
    if (s === undefined) {
      s = { seq, roc: 0, top: seq, window: 0n };
      this.#streams.set(ssrc, s);
    } else if (seq < s.seq && s.seq - seq > 0x8000) {
      s.roc = (s.roc + 1) >>> 0;
      s.seq = seq;
    } else if (seq > s.seq) {
      s.seq = seq;
    }
    const roc = s.seq === seq ? s.roc : seq - s.seq > 0x8000 ? (s.roc - 1) >>> 0 : s.roc;
    const index = roc * 0x10000 + seq;
    const enc = aesCm(this.#rtp.encryption, counterIv(this.#rtp.salt, ssrc, index), p.subarray(h));
    const body = Buffer.concat([p.subarray(0, h), enc]);
    const rocBuf = Buffer.alloc(4);
    rocBuf.writeUInt32BE(roc, 0);
    return Buffer.concat([body, hmac(this.#rtp.auth, [body, rocBuf], this.#tagLength)]);
  }

  /** SRTP → RTP: authenticates, refuses replays, decrypts. */
  unprotectRtp(p: Buffer): Unprotected {
    const h = rtpHeaderLength(p);
    if (h < 0 || p.length < h + this.#tagLength) return { ok: false, why: 'short' };
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    const s = this.#streams.get(ssrc);
    // RFC 3711 §3.3.1: the index guessed from the highest sequence number seen.
    let roc = s?.roc ?? 0;
    if (s !== undefined) {
      if (s.seq < 0x8000) {
        if (seq - s.seq > 0x8000) roc = (s.roc - 1) >>> 0;
      } else if (s.seq - 0x8000 > seq) {
        roc = (s.roc + 1) >>> 0;
      }
    }
    const index = roc * 0x10000 + seq;
    if (s !== undefined && !fresh(s, index)) return { ok: false, why: 'replay' };
    const body = p.subarray(0, p.length - this.#tagLength);
    const rocBuf = Buffer.alloc(4);
    rocBuf.writeUInt32BE(roc, 0);
    const tag = hmac(this.#rtp.auth, [body, rocBuf], this.#tagLength);
    if (!crypto.timingSafeEqual(tag, p.subarray(p.length - this.#tagLength))) return { ok: false, why: 'auth' };
    const plain = aesCm(this.#rtp.encryption, counterIv(this.#rtp.salt, ssrc, index), body.subarray(h));
    if (s === undefined) this.#streams.set(ssrc, { seq, roc, top: index, window: 1n });
    else {
      accept(s, index);
      if (index > s.roc * 0x10000 + s.seq) {
        s.roc = roc;
        s.seq = seq;
      }
    }
    return { ok: true, packet: Buffer.concat([p.subarray(0, h), plain]) };
  }

  /** RTCP → SRTCP: encrypts after the first 8 bytes, appends E|index and an 80-bit tag (RFC 3711 §3.4). */
  protectRtcp(p: Buffer): Buffer | undefined {
    if (p.length < 8) return undefined;
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    const ssrc = p.readUInt32BE(4);
    const enc = aesCm(this.#rtcp.encryption, counterIv(this.#rtcp.salt, ssrc, index), p.subarray(8));
    const e = Buffer.alloc(4);
    e.writeUInt32BE((0x80000000 | index) >>> 0, 0);
    const body = Buffer.concat([p.subarray(0, 8), enc, e]);
    return Buffer.concat([body, hmac(this.#rtcp.auth, [body], 10)]);
  }

  unprotectRtcp(p: Buffer): Unprotected {
    if (p.length < 8 + 4 + 10) return { ok: false, why: 'short' };
    const body = p.subarray(0, p.length - 10);
    if (!crypto.timingSafeEqual(hmac(this.#rtcp.auth, [body], 10), p.subarray(p.length - 10))) return { ok: false, why: 'auth' };
    const word = body.readUInt32BE(body.length - 4);
    const index = word & 0x7fffffff;
    const ssrc = p.readUInt32BE(4);
    const seen = this.#rtcpSeen.get(ssrc) ?? { top: -1, window: 0n };
    if (seen.top >= 0 && !fresh(seen, index)) return { ok: false, why: 'replay' };
    if (seen.top < 0) {
      seen.top = index;
      seen.window = 1n;
    } else accept(seen, index);
    this.#rtcpSeen.set(ssrc, seen);
    const payload = body.subarray(8, body.length - 4);
    const plain = (word & 0x80000000) !== 0 ? aesCm(this.#rtcp.encryption, counterIv(this.#rtcp.salt, ssrc, index), payload) : Buffer.from(payload);
    return { ok: true, packet: Buffer.concat([p.subarray(0, 8), plain]) };
  }
}

const WINDOW = 64;

/** Whether `index` is new to the replay window (RFC 3711 §3.3.2). */
function fresh(s: { top: number; window: bigint }, index: number): boolean {
  if (index > s.top) return true;
  const back = s.top - index;
  if (back >= WINDOW) return false;
  return ((s.window >> BigInt(back)) & 1n) === 0n;
}

function accept(s: { top: number; window: bigint }, index: number): void {
  if (index > s.top) {
    const shift = index - s.top;
    s.window = shift >= WINDOW ? 1n : ((s.window << BigInt(shift)) | 1n) & ((1n << BigInt(WINDOW)) - 1n);
    s.top = index;
  } else {
    s.window |= 1n << BigInt(s.top - index);
  }
}

/** `a=crypto` (RFC 4568): `<tag> <suite> inline:<base64 key||salt>[|lifetime][|MKI:len]`. */
export interface CryptoAttribute {
  readonly tag: number;
  readonly suite: SrtpSuite;
  readonly master: SrtpMasterKey;
}

export function parseCryptoAttribute(value: string): CryptoAttribute | undefined {
  const m = /^(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)(?:\|[^\s]*)?(?:\s.*)?$/.exec(value.trim());
  if (m === null) return undefined;
  const suite = m[2] as SrtpSuite;
  if (!SRTP_SUITES.includes(suite)) return undefined;
  const raw = Buffer.from(m[3] as string, 'base64');
  if (raw.length !== 30) return undefined;
  return { tag: Number(m[1]), suite, master: { key: raw.subarray(0, 16), salt: raw.subarray(16, 30) } };
}

export function writeCryptoAttribute(a: CryptoAttribute): string {
  return `${a.tag} ${a.suite} inline:${Buffer.concat([a.master.key, a.master.salt]).toString('base64')}`;
}

/** A fresh master key and salt. */
export function newMasterKey(): SrtpMasterKey {
  const raw = crypto.randomBytes(30);
  return { key: raw.subarray(0, 16), salt: raw.subarray(16, 30) };
}
