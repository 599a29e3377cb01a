/**
 * Fast Connect (H.323 §8.1.7) in the call model's terms: the caller's fastStart proposals, read
 * into a neutral form by the H.245 layer, become one SDP offer for the call layer; the call
 * layer's SDP answer picks at most one proposal per direction of the audio session (the rules of
 * the H.323 edge's reference, §1.5). Pure functions: no PER, no sockets.
 */
import type { SessionBody } from '../../../common/call-leg.ts';
import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import { readSdp } from '../../sdp/anchor.ts';

/** An IPv4 transport address as H.245 carries it (ipAddress: 4 octets + port). */
export interface TransportAddr {
  readonly address: string;
  readonly port: number;
}

/** The H.245 AudioCapability alternatives Carillon's bridge can take. */
export type H323AudioCapability = 'g711Ulaw64k' | 'g711Alaw64k' | 'g722-64k';

/** RTP names of the audio capabilities (static payload types, RFC 3551). */
export const AUDIO_CODECS: Readonly<Record<H323AudioCapability, { readonly name: string; readonly payloadType: number; readonly clockRateHz: number }>> = {
  'g722-64k': { name: 'G722', payloadType: 9, clockRateHz: 8000 },
  g711Ulaw64k: { name: 'PCMU', payloadType: 0, clockRateHz: 8000 },
  g711Alaw64k: { name: 'PCMA', payloadType: 8, clockRateHz: 8000 },
};

/** Carillon's preference when the caller's order leaves a choice. */
const PREFERENCE: readonly H323AudioCapability[] = ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k'];

export function isAudioCapability(name: string): name is H323AudioCapability {
  return name in AUDIO_CODECS;
}

/** One fastStart element (an encoded OpenLogicalChannel), as far as choosing needs it. */
export interface FastStartProposal {
  /** Its position in Setup.fastStart. */
  readonly index: number;
  readonly sessionId: number;
  /** 'to-us': the caller transmits (forward parameters); 'to-peer': the caller receives (reverse parameters). */
  readonly direction: 'to-us' | 'to-peer';
  readonly kind: 'audio' | 'video' | 'data' | 'other';
  /** The capability's alternative name ('g711Ulaw64k', 'genericVideoCapability', …). */
  readonly capability: string;
  /** Frames (G.711/G.722: milliseconds) per packet. */
  readonly framesPerPacket: number | undefined;
  readonly forwardLogicalChannelNumber: number;
  /** to-peer: where the caller receives RTP. */
  readonly mediaChannel: TransportAddr | undefined;
  /** The caller's RTCP. */
  readonly mediaControlChannel: TransportAddr | undefined;
  /** Both forward and reverse parameters carry media: not taken (ooh323c and h323plus skip them too). */
  readonly bidirectional: boolean;
}

function usable(a: TransportAddr | undefined): a is TransportAddr {
  return a !== undefined && isIpLiteral(a.address) && !a.address.includes(':') && isUsablePort(a.port);
}

/** The audio proposals Carillon can take, per direction, in the caller's order. */
function audioProposals(proposals: readonly FastStartProposal[], direction: FastStartProposal['direction']): FastStartProposal[] {
  return proposals.filter((p) => p.kind === 'audio' && p.direction === direction && !p.bidirectional && isAudioCapability(p.capability) && (direction === 'to-us' || usable(p.mediaChannel)));
}

/**
 * The SDP offer the caller's fastStart amounts to: one audio line on the address it receives at,
 * with the codecs it can both send and receive in its order (static payload types).
 * undefined: nothing usable (the call goes on without Fast Connect; the offer comes from H.245).
 */
export function offerOfFastStart(proposals: readonly FastStartProposal[], sessionVersion: number): string | undefined {
  const receive = audioProposals(proposals, 'to-peer');
  const send = new Set(audioProposals(proposals, 'to-us').map((p) => p.capability));
  const both = receive.filter((p) => send.has(p.capability));
  const first = both[0];
  if (first === undefined || !usable(first.mediaChannel)) return undefined;
  const media = first.mediaChannel;
  const caps = [...new Set(both.map((p) => p.capability))].filter(isAudioCapability);
  const pts = caps.map((c) => AUDIO_CODECS[c].payloadType);
  const lines = [
    'v=0',
    `o=- ${sessionVersion} ${sessionVersion} IN IP4 ${media.address}`,
    's=-',
    `c=IN IP4 ${media.address}`,
    't=0 0',
    `m=audio ${media.port} RTP/AVP ${pts.join(' ')}`,
    ...caps.map((c) => `a=rtpmap:${AUDIO_CODECS[c].payloadType} ${AUDIO_CODECS[c].name}/${AUDIO_CODECS[c].clockRateHz}`),
    ...(usable(first.mediaControlChannel) ? [`a=rtcp:${first.mediaControlChannel.port} IN IP4 ${first.mediaControlChannel.address}`] : []),
    ...(first.framesPerPacket !== undefined && first.framesPerPacket >= 10 && first.framesPerPacket <= 60 ? [`a=ptime:${first.framesPerPacket}`] : []),
    'a=sendrecv',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** What Carillon answers the caller's fastStart with: one proposal per direction, and its own RTP address. */
export interface FastStartChoice {
  readonly capability: H323AudioCapability;
  /** The caller's channel toward Carillon: answered with Carillon's mediaChannel. */
  readonly toUs: FastStartProposal;
  /** The caller's receive channel: answered with a forwardLogicalChannelNumber of Carillon's own. */
  readonly toPeer: FastStartProposal;
  /** Where Carillon receives RTP and RTCP (from the answer). */
  readonly local: TransportAddr;
  readonly localRtcp: TransportAddr;
}

/**
 * Picks the proposals the call layer's SDP answer stands for. undefined: the answer names no codec
 * both directions were proposed with (the edge refuses Fast Connect and goes on with H.245).
 */
export function chooseFastStart(proposals: readonly FastStartProposal[], answerSdp: string): FastStartChoice | undefined {
  const desc = readSdp(answerSdp);
  const line = desc?.media.find((m) => m.type === 'audio' && m.port > 0);
  if (line === undefined || line.address === undefined) return undefined;
  const names = line.payloads.map((pt) => line.codecs.get(pt)?.name);
  const capability = [...PREFERENCE]
    .filter((c) => names.includes(AUDIO_CODECS[c].name))
    .sort((a, b) => names.indexOf(AUDIO_CODECS[a].name) - names.indexOf(AUDIO_CODECS[b].name))[0];
  if (capability === undefined) return undefined;
  const toUs = audioProposals(proposals, 'to-us').find((p) => p.capability === capability);
  const toPeer = audioProposals(proposals, 'to-peer').find((p) => p.capability === capability);
  if (toUs === undefined || toPeer === undefined) return undefined;
  return { capability, toUs, toPeer, local: { address: line.address, port: line.port }, localRtcp: { address: line.address, port: line.rtcpPort } };
}

/** Local RTP and RTCP of an SDP body (Carillon's offer or answer). */
export function localMediaOf(body: SessionBody | undefined): { readonly rtp: TransportAddr; readonly rtcp: TransportAddr; readonly codecs: H323AudioCapability[] } | undefined {
  const desc = readSdp(body?.bytes.toString('utf8') ?? '');
  const line = desc?.media.find((m) => m.type === 'audio' && m.port > 0);
  if (line === undefined || line.address === undefined) return undefined;
  const codecs: H323AudioCapability[] = [];
  for (const pt of line.payloads) {
    const name = line.codecs.get(pt)?.name.toUpperCase();
    const cap = (Object.keys(AUDIO_CODECS) as H323AudioCapability[]).find((c) => AUDIO_CODECS[c].name === name);
    if (cap !== undefined && !codecs.includes(cap)) codecs.push(cap);
  }
  return { rtp: { address: line.address, port: line.port }, rtcp: { address: line.address, port: line.rtcpPort }, codecs };
}
