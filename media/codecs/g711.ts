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
