import type { RemoteMedia } from '../../media/protocol.ts';
import type { MediaDescription, SessionDescription } from '../sdp/anchor.ts';
import { newSdesKey, SDES_SUITES } from './call-media.ts';
import type { SdesSuite } from './call-media.ts';

/**
 * A meeting participant's session description: Carillon is the far end of the call (not a B2BUA),
 * so it answers the participant's offer itself — the first audio line in a codec the bridge mixes
 * (the offerer's order decides among them), telephone-event when offered, SDES-SRTP when the line
 * is RTP/SAVP with a suite Carillon terminates, every other line rejected (port 0) — or makes the
 * offer itself when the participant's INVITE had none.
 */


/** The audio Carillon and a participant agreed on. */
export interface ParticipantAudio {
  /** Index of the audio line in the description. */
  readonly index: number;
  /** Bridge codec name (PCMU, PCMA, G722, OPUS). */
  readonly codec: string;
  readonly payloadType: number;
  /** The codec's RTP clock rate as the line writes it. */
  readonly clockRateHz: number;
  /** Channels written in the rtpmap (Opus: 2), else undefined. */
  readonly channels: number | undefined;
  /** telephone-event payload type agreed, if any. */
  readonly dtmfPayloadType: number | undefined;
  /** Where the participant receives, as the media engine takes it. */
  readonly remote: RemoteMedia;
  /** SRTP: the suite, the tag, the participant's key and Carillon's. */
  readonly srtp: { readonly suite: SdesSuite; readonly tag: number; readonly theirKey: string; readonly ourKey: string } | undefined;
}

/** Why an offer cannot be answered (the SIP status to refuse it with). */
export interface AudioRefusal {
  readonly status: 488;
  readonly reason: string;
}

/** The codecs Carillon offers when it makes the offer (late offer), in preference order, with their rtpmap. */
const OFFERED: readonly { readonly name: string; readonly pt: number; readonly rtpmap: string; readonly fmtp?: string }[] = [
  { name: 'OPUS', pt: 111, rtpmap: 'opus/48000/2', fmtp: 'useinbandfec=1;maxplaybackrate=16000;sprop-maxcapturerate=16000' },
  { name: 'G722', pt: 9, rtpmap: 'G722/8000' },
  { name: 'PCMU', pt: 0, rtpmap: 'PCMU/8000' },
  { name: 'PCMA', pt: 8, rtpmap: 'PCMA/8000' },
];
const OFFERED_DTMF_PT = 101;

function holdAddress(a: string | undefined): boolean {
  return a === undefined || a === '0.0.0.0' || a === '::';
}

export function remoteOf(m: MediaDescription, dtmfPayloadType: number | undefined, srtp: ParticipantAudio['srtp']): RemoteMedia {
  return {
    address: holdAddress(m.address) ? undefined : m.address,
    port: m.port,
    rtcpPort: m.rtcpPort,
    rtcpMux: m.rtcpMux,
    direction: m.direction,
    dtmfPayloadTypes: dtmfPayloadType === undefined ? [] : [dtmfPayloadType],
    ...(srtp === undefined ? {} : { srtp: { suite: srtp.suite, receiveKey: srtp.theirKey, sendKey: srtp.ourKey } }),
  };
}


function channelsOf(desc: SessionDescription, m: MediaDescription, pt: number): number | undefined {
  const line = desc.parsed.media[m.index] as { rtp?: { payload: number; encoding?: number | string }[] } | undefined;
  const r = line?.rtp?.find((x) => x.payload === pt);
  const n = Number(r?.encoding);
  return Number.isInteger(n) && n > 1 ? n : undefined;
}

/** SDES-SRTP of a line Carillon answers: undefined for plain RTP, 'none' when no offered suite is one Carillon terminates; `previous` keeps Carillon's key. */
export function sdesOf(m: MediaDescription, previous: ParticipantAudio['srtp']): ParticipantAudio['srtp'] | 'none' {
  if (!m.protocol.includes('SAVP')) return undefined;
  const offered = SDES_SUITES.map((suite) => m.crypto.find((c) => c.suite === suite)).find((c) => c !== undefined);
  if (offered === undefined) return 'none';
  const suite = offered.suite as SdesSuite;
  const ourKey = previous !== undefined && previous.suite === suite ? previous.ourKey : newSdesKey();
  return { suite, tag: offered.tag, theirKey: offered.key, ourKey };
}

/**
 * Chooses the participant's audio from its offer: the first audio line with a port and a codec
 * `mixable` says the bridge mixes, that codec the first such in the line's order. `previous`: the
 * audio agreed before (a re-offer keeps Carillon's key when the participant keeps its suite).
 */
export function chooseAudio(desc: SessionDescription, mixable: (codec: string) => boolean, previous?: ParticipantAudio): ParticipantAudio | AudioRefusal {
  let sawAudio = false;
  for (const m of desc.media) {
    if (m.type !== 'audio' || m.port === 0) continue;
    sawAudio = true;
    const pt = m.payloads.find((p) => {
      const c = m.codecs.get(p);
      return c !== undefined && c.name !== 'TELEPHONE-EVENT' && mixable(c.name);
    });
    if (pt === undefined) continue;
    const codec = m.codecs.get(pt) as { name: string; clockRateHz: number };
    const dtmf = m.payloads.find((p) => {
      const c = m.codecs.get(p);
      return c?.name === 'TELEPHONE-EVENT' && c.clockRateHz === codec.clockRateHz;
    });
    const srtp = sdesOf(m, previous?.srtp);
    if (srtp === 'none') return { status: 488, reason: 'No Supported SRTP Suite' };
    return {
      index: m.index,
      codec: codec.name,
      payloadType: pt,
      clockRateHz: codec.clockRateHz,
      channels: channelsOf(desc, m, pt),
      dtmfPayloadType: dtmf,
      remote: remoteOf(m, dtmf, srtp),
      srtp,
    };
  }
  return { status: 488, reason: sawAudio ? 'No Common Audio Codec' : 'No Audio Stream' };
}

/** Where Carillon receives a participant's audio, and the description's identity (o=). */
export interface LocalAudio {
  readonly address: string;
  readonly port: number;
  /** o= session id and version (the version rises with every new description). */
  readonly sessionId: string;
  readonly version: number;
}

function header(local: LocalAudio): string[] {
  const ip = local.address.includes(':') ? 'IP6' : 'IP4';
  return ['v=0', `o=Carillon ${local.sessionId} ${local.version} IN ${ip} ${local.address}`, 's=Carillon meeting', `c=IN ${ip} ${local.address}`, 't=0 0'];
}

function rtpmapOf(audio: ParticipantAudio): string {
  const name = audio.codec === 'OPUS' ? 'opus' : audio.codec;
  return `${name}/${audio.clockRateHz}${audio.channels === undefined ? '' : `/${audio.channels}`}`;
}

/**
 * The answer to `desc`: the chosen audio on Carillon's port, the lines `others` answers (by index:
 * the participant's video) as written there, every other line rejected.
 */
export function answerSdp(desc: SessionDescription, audio: ParticipantAudio, local: LocalAudio, others?: ReadonlyMap<number, readonly string[]>): string {
  const out = header(local);
  for (const m of desc.media) {
    const other = others?.get(m.index);
    if (other !== undefined) {
      out.push(...other);
      continue;
    }
    if (m.index !== audio.index) {
      // RFC 3264 §6: a rejected line keeps its type and protocol, port 0, one of its formats.
      out.push(`m=${m.type} 0 ${m.protocol || 'RTP/AVP'} ${m.protocol.includes('RTP') || m.protocol === '' ? (m.payloads[0] ?? 0) : '*'}`);
      continue;
    }
    const pts = [audio.payloadType, ...(audio.dtmfPayloadType === undefined ? [] : [audio.dtmfPayloadType])];
    out.push(`m=audio ${local.port} ${audio.srtp === undefined ? 'RTP/AVP' : 'RTP/SAVP'} ${pts.join(' ')}`);
    out.push(`a=rtpmap:${audio.payloadType} ${rtpmapOf(audio)}`);
    if (audio.codec === 'OPUS') out.push(`a=fmtp:${audio.payloadType} useinbandfec=1;maxplaybackrate=16000;sprop-maxcapturerate=16000`);
    if (audio.dtmfPayloadType !== undefined) out.push(`a=rtpmap:${audio.dtmfPayloadType} telephone-event/${audio.clockRateHz}`, `a=fmtp:${audio.dtmfPayloadType} 0-15`);
    out.push('a=ptime:20');
    // Carillon always sends and receives: a participant's hold is its own business (sendonly → Carillon's recvonly).
    out.push(`a=${m.direction === 'sendonly' ? 'recvonly' : m.direction === 'recvonly' ? 'sendonly' : m.direction === 'inactive' ? 'inactive' : 'sendrecv'}`);
    out.push(m.rtcpMux ? 'a=rtcp-mux' : `a=rtcp:${local.port + 1}`);
    if (audio.srtp !== undefined) out.push(`a=crypto:${audio.srtp.tag} ${audio.srtp.suite} inline:${audio.srtp.ourKey}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** Carillon's offer toward a phone network carrier: G.711 first, as the phone network speaks it. */
export const CARRIER_ORDER: readonly string[] = ['PCMU', 'PCMA', 'G722', 'OPUS'];

/**
 * Carillon's offer (a participant's INVITE had none, or a dial-out): the codecs `mixable` says the
 * bridge mixes — wideband first, or in `order` — and telephone-event.
 */
export function offerSdp(local: LocalAudio, mixable: (codec: string) => boolean, secure: { readonly suite: SdesSuite; readonly key: string } | undefined, order?: readonly string[]): string {
  const out = header(local);
  const ranked = order === undefined ? OFFERED : [...OFFERED].sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
  const codecs = ranked.filter((c) => mixable(c.name));
  out.push(`m=audio ${local.port} ${secure === undefined ? 'RTP/AVP' : 'RTP/SAVP'} ${[...codecs.map((c) => c.pt), OFFERED_DTMF_PT].join(' ')}`);
  for (const c of codecs) {
    out.push(`a=rtpmap:${c.pt} ${c.rtpmap}`);
    if (c.fmtp !== undefined) out.push(`a=fmtp:${c.pt} ${c.fmtp}`);
  }
  out.push(`a=rtpmap:${OFFERED_DTMF_PT} telephone-event/8000`, `a=fmtp:${OFFERED_DTMF_PT} 0-15`, 'a=ptime:20', 'a=sendrecv', `a=rtcp:${local.port + 1}`);
  if (secure !== undefined) out.push(`a=crypto:1 ${secure.suite} inline:${secure.key}`);
  return `${out.join('\r\n')}\r\n`;
}

/**
 * Carillon's re-offer of a participant's agreed audio from a new port (its endpoint moved to
 * another media worker): the same codec and payload types, Carillon's same key.
 */
export function reofferSdp(local: LocalAudio, audio: ParticipantAudio): string {
  const out = header(local);
  const pts = [audio.payloadType, ...(audio.dtmfPayloadType === undefined ? [] : [audio.dtmfPayloadType])];
  out.push(`m=audio ${local.port} ${audio.srtp === undefined ? 'RTP/AVP' : 'RTP/SAVP'} ${pts.join(' ')}`);
  out.push(`a=rtpmap:${audio.payloadType} ${rtpmapOf(audio)}`);
  if (audio.codec === 'OPUS') out.push(`a=fmtp:${audio.payloadType} useinbandfec=1;maxplaybackrate=16000;sprop-maxcapturerate=16000`);
  if (audio.dtmfPayloadType !== undefined) out.push(`a=rtpmap:${audio.dtmfPayloadType} telephone-event/${audio.clockRateHz}`, `a=fmtp:${audio.dtmfPayloadType} 0-15`);
  out.push('a=ptime:20', 'a=sendrecv', `a=rtcp:${local.port + 1}`);
  if (audio.srtp !== undefined) out.push(`a=crypto:${audio.srtp.tag} ${audio.srtp.suite} inline:${audio.srtp.ourKey}`);
  return `${out.join('\r\n')}\r\n`;
}

/** A new SDES key for an offer Carillon makes on a secure transport. */
export function offerKey(): { readonly suite: SdesSuite; readonly key: string } {
  return { suite: 'AES_CM_128_HMAC_SHA1_80', key: newSdesKey() };
}

/**
 * The participant's answer to Carillon's offer: its audio (the answer names the codec it picked),
 * with Carillon's offered key when the line is secure.
 */
export function audioOfAnswer(desc: SessionDescription, mixable: (codec: string) => boolean, offered: { readonly suite: SdesSuite; readonly key: string } | undefined): ParticipantAudio | AudioRefusal {
  const chosen = chooseAudio(desc, mixable);
  if ('status' in chosen) return chosen;
  if (chosen.srtp === undefined) return offered === undefined ? chosen : { status: 488, reason: 'SRTP Required' };
  if (offered === undefined || chosen.srtp.suite !== offered.suite) return { status: 488, reason: 'Answer Changed The SRTP Suite' };
  const srtp = { ...chosen.srtp, ourKey: offered.key };
  const m = desc.media[chosen.index] as MediaDescription;
  return { ...chosen, srtp, remote: remoteOf(m, chosen.dtmfPayloadType, srtp) };
}
