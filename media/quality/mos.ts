/**
 * Call quality as a MOS on the narrowband scale Chime reported (1.0–4.4), from the ITU-T G.107
 * E-model in the simplified form used for VoIP monitoring:
 *
 *   R = 93.2 − Id − Ie,eff
 *   Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)              d: one-way delay, ms
 *   Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)      Ppl: packet loss, %
 *   MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶            (G.107 Annex B), 1 for R < 0
 *
 * d is estimated from the network as RTT/2 + jitter-buffer delay (2 × jitter) + 20 ms of
 * packetisation. Defaults are G.711 with packet-loss concealment (Ie 0, Bpl 25.1, random loss).
 */
export interface CodecImpairment {
  /** Equipment impairment factor Ie. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl. */
  readonly bpl: number;
}

/** G.711 with packet-loss concealment (G.711 Appendix I): what a modern endpoint runs. */
export const DEFAULT_IMPAIRMENT: CodecImpairment = { ie: 0, bpl: 25.1 };

/**
 * Narrowband values by SDP codec name (ITU-T G.113 Appendix I, as commonly used). G.722 and Opus
 * have no narrowband Ie/Bpl (G.113 gives wideband values on G.107.1's 0–129 scale only, and none
 * for Opus' loss robustness): on the narrowband 1.0–4.4 scale Chime reports they are scored as
 * G.711 with concealment, an explicit choice here rather than a fallback.
 * TODO(G.107.1): a wideband score for G.722/Opus legs beside the narrowband one.
 */
export const CODEC_IMPAIRMENTS: Readonly<Record<string, CodecImpairment>> = {
  PCMU: DEFAULT_IMPAIRMENT,
  PCMA: DEFAULT_IMPAIRMENT,
  G729: { ie: 11, bpl: 19 },
  G723: { ie: 15, bpl: 16.1 },
  GSM: { ie: 5, bpl: 10 },
  G722: DEFAULT_IMPAIRMENT,
  OPUS: DEFAULT_IMPAIRMENT,
};

/** The impairment of a codec by its SDP name (any case; G.729 Annex B variants as G.729); G.711's when unknown. */
export function impairmentOf(codec: string | undefined): CodecImpairment {
  if (codec === undefined) return DEFAULT_IMPAIRMENT;
  const name = codec.toUpperCase();
  return CODEC_IMPAIRMENTS[name] ?? (name.startsWith('G729') ? (CODEC_IMPAIRMENTS.G729 as CodecImpairment) : DEFAULT_IMPAIRMENT);
}

/** Highest MOS reported (narrowband ceiling). */
export const MOS_MAX = 4.4;
export const MOS_MIN = 1.0;

const PACKETISATION_MS = 20;

export interface QualityInputs {
  /** Packet loss over the measured interval or call, percent (0–100). */
  readonly lossPct: number;
  /** Interarrival jitter, microseconds. */
  readonly jitterUs: number;
  /** Round-trip time, microseconds (0 when unknown: delay then counts only jitter and packetisation). */
  readonly rttUs: number;
  /** Loss burstiness (1 = random). */
  readonly burstR?: number;
}

/** The E-model rating R for the inputs. */
export function rFactor(q: QualityInputs, codec: CodecImpairment = DEFAULT_IMPAIRMENT): number {
  const d = q.rttUs / 2000 + (2 * q.jitterUs) / 1000 + PACKETISATION_MS;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, q.lossPct));
  const burstR = q.burstR ?? 1;
  const ieEff = codec.ie + ((95 - codec.ie) * ppl) / (ppl / burstR + codec.bpl);
  return 93.2 - id - ieEff;
}

/** MOS from R (G.107 Annex B), to two decimals, clamped to the 1.0–4.4 range Chime used. */
export function mosFromR(r: number): number {
  let mos: number;
  if (r < 0) mos = 1;
  else if (r > 100) mos = 4.5;
  else mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
  return Math.min(MOS_MAX, Math.max(MOS_MIN, Math.round(mos * 100) / 100));
}

export function mos(q: QualityInputs, codec: CodecImpairment = DEFAULT_IMPAIRMENT): number {
  return mosFromR(rFactor(q, codec));
}
