/**
 * G.711 (ITU-T G.711) µ-law and A-law to 16-bit linear PCM, as 256-entry tables built once:
 * decoding a 20 ms frame is 160 table reads into a buffer the caller owns (no allocation).
 */

function ulawSample(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return (u & 0x80) !== 0 ? -magnitude : magnitude;
}

function alawSample(code: number): number {
  const a = code ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (segment === 0) t += 8;
  else t = (t + 0x108) << (segment - 1);
  return (a & 0x80) !== 0 ? t : -t;
}

/** µ-law byte → linear sample (payload type 0, PCMU). */
export const ULAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawSample(i));
/** A-law byte → linear sample (payload type 8, PCMA). */
export const ALAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawSample(i));

/** The decode table of a static G.711 payload type (0 PCMU, 8 PCMA), else undefined. */
export function g711Table(payloadType: number): Int16Array | undefined {
  return payloadType === 0 ? ULAW_TO_LINEAR : payloadType === 8 ? ALAW_TO_LINEAR : undefined;
}

/**
 * Linear → G.711 as 65,536-entry tables indexed by `sample + 32768` (one read per sample, built
 * once): each linear value maps to the code whose decoded value is nearest, so that
 * encode(decode(c)) is c for every code that decodes to a distinct value.
 */
function encodeTable(decode: Int16Array, preferZero: number): Uint8Array {
  const codes = Array.from({ length: 256 }, (_, c) => c)
    .filter((c) => decode[c] !== 0 || c === preferZero)
    .sort((a, b) => (decode[a] ?? 0) - (decode[b] ?? 0));
  const table = new Uint8Array(65536);
  let i = 0;
  for (let v = -32768; v <= 32767; v++) {
    while (i + 1 < codes.length) {
      const here = decode[codes[i] ?? 0] ?? 0;
      const next = decode[codes[i + 1] ?? 0] ?? 0;
      if (Math.abs(next - v) <= Math.abs(here - v)) i++;
      else break;
    }
    table[v + 32768] = codes[i] ?? 0;
  }
  return table;
}

/** Linear sample + 32768 → µ-law byte. */
export const LINEAR_TO_ULAW: Uint8Array = encodeTable(ULAW_TO_LINEAR, 0xff);
/** Linear sample + 32768 → A-law byte. */
export const LINEAR_TO_ALAW: Uint8Array = encodeTable(ALAW_TO_LINEAR, 0xd5);

/** The encode table of a static G.711 payload type (0 PCMU, 8 PCMA), else undefined. */
export function g711EncodeTable(payloadType: number): Uint8Array | undefined {
  return payloadType === 0 ? LINEAR_TO_ULAW : payloadType === 8 ? LINEAR_TO_ALAW : undefined;
}
