/**
 * The worker's video commands (media-core delegates here): attach a participant's video to its
 * session's VideoRoom, a key-frame request that came through signaling, and moving a video
 * endpoint with its participant into another session.
 */
import type { Clock } from '../../common/clock.ts';
import type { MeetingRoom } from '../mixer/meeting-room.ts';
import type { MediaEvent, MediaFunctionSpec, MediaReply } from '../protocol.ts';
import type { Endpoint } from '../relay/endpoint.ts';
import { isVideoCodec, VideoParticipant } from './video-participant.ts';
import { VideoRoom } from './video-room.ts';
import type { VideoRoomKind, VideoTotals } from './video-room.ts';

/** What of a media-core session the video commands use. */
export interface VideoSessionView {
  readonly id: string;
  room: MeetingRoom | undefined;
  video: VideoRoom | undefined;
  content: VideoRoom | undefined;
}

export interface VideoCommandDeps {
  readonly clock: Clock;
  readonly cname: string;
  readonly random: () => number;
  readonly emit: (e: MediaEvent) => void;
  readonly totals: VideoTotals;
}

/** The session's camera (or content) room, made with its first video (or content) participant. */
export function videoRoomOf(session: VideoSessionView, deps: VideoCommandDeps, kind: VideoRoomKind = 'camera'): VideoRoom {
  const existing = kind === 'camera' ? session.video : session.content;
  if (existing !== undefined) return existing;
  const room = new VideoRoom(session.id, { clock: deps.clock, cname: deps.cname, emit: deps.emit, dominant: () => session.room?.bridge.dominant() }, deps.totals, kind);
  if (kind === 'camera') session.video = room;
  else session.content = room;
  return room;
}

/** The room a video participant belongs to in a session (camera or content). */
function roomOf(session: VideoSessionView, v: VideoParticipant): VideoRoom | undefined {
  return v.role === 'content' ? session.content : session.video;
}

/** The video function on an endpoint, if it has one. */
export function videoOn(ep: Endpoint): VideoParticipant | undefined {
  const fns = ep.functions;
  for (let i = 0; i < fns.length; i++) {
    const f = fns[i];
    if (f instanceof VideoParticipant) return f;
  }
  return undefined;
}

/** `attach {fn: 'video'}` on `ep` of `session`. */
export function attachVideo(session: VideoSessionView, ep: Endpoint, f: Extract<MediaFunctionSpec, { fn: 'video' }>, deps: VideoCommandDeps): MediaReply {
  const codec = typeof f.codec === 'string' ? f.codec.toUpperCase() : '';
  const pt = f.payloadType;
  const mode = f.packetizationMode ?? 0;
  const k = f.keyFrame as unknown;
  const keyOk = typeof k === 'object' && k !== null && ['pli', 'fir', 'signaling'].every((n) => typeof (k as Record<string, unknown>)[n] === 'boolean');
  // The payload type goes into every packet's header: a 7-bit RTP one, not an RTCP-looking one (RFC 5761 §4).
  if (!isVideoCodec(codec) || ep.kind !== 'video' || !Number.isInteger(pt) || pt < 0 || pt > 127 || (pt >= 64 && pt <= 95) || !keyOk || (mode !== 0 && mode !== 1)) {
    return { ok: false, error: 'unsupported-codec' };
  }
  const level = f.h264Level ?? 0;
  if (!Number.isInteger(level) || level < 0 || level > 255) return { ok: false, error: 'unsupported-codec' };
  const maxBps = f.maxBitrateBps ?? 0;
  if (typeof maxBps !== 'number' || !Number.isFinite(maxBps) || maxBps < 0) return { ok: false, error: 'unsupported-codec' };
  const existing = videoOn(ep);
  if (existing !== undefined) return existing.codec === codec && existing.payloadType === pt ? { ok: true } : { ok: false, error: 'unsupported-codec' };
  const audio = typeof f.audioEndpoint === 'string' ? session.room?.participant(f.audioEndpoint) : undefined;
  if (audio === undefined) return { ok: false, error: 'not-a-participant' };
  const role = f.role ?? 'camera';
  if (role !== 'camera' && role !== 'content') return { ok: false, error: 'unsupported-codec' };
  const room = videoRoomOf(session, deps, role);
  const p = new VideoParticipant(room, ep, { codec, payloadType: pt, mode0: mode === 0, keyFrame: { pli: f.keyFrame.pli, fir: f.keyFrame.fir, signaling: f.keyFrame.signaling }, maxBitrateBps: Math.floor(maxBps), role, h264Level: level }, audio, deps.random);
  ep.functions.push(p);
  room.add(p);
  return { ok: true };
}

/** `key-frame`: the receiver on `ep` asked for one through signaling. */
export function keyFrameCommand(session: VideoSessionView | undefined, ep: Endpoint | undefined, nowMs: number): MediaReply {
  if (session === undefined) return { ok: false, error: 'no-such-session' };
  if (ep === undefined) return { ok: false, error: 'no-such-endpoint' };
  const v = videoOn(ep);
  const room = v === undefined ? undefined : roomOf(session, v);
  if (v === undefined || room === undefined) return { ok: false, error: 'not-a-participant' };
  room.keyFrameWanted(v, nowMs);
  return { ok: true };
}

/** `presenter`: the content stream on `endpoint` is what everyone sees as content (undefined: nobody presents). */
export function presenterCommand(session: VideoSessionView | undefined, ep: Endpoint | undefined, clearing: boolean): MediaReply {
  if (session === undefined) return { ok: false, error: 'no-such-session' };
  if (clearing) {
    session.content?.setPresenter(undefined);
    return { ok: true };
  }
  if (ep === undefined) return { ok: false, error: 'no-such-endpoint' };
  const v = videoOn(ep);
  if (v === undefined || v.role !== 'content' || session.content === undefined) return { ok: false, error: 'not-a-participant' };
  session.content.setPresenter(v);
  return { ok: true };
}

/** A video endpoint moves from `from` to `to` (with its participant): it leaves one video room for the other's. */
export function moveVideo(from: VideoSessionView, to: VideoSessionView, ep: Endpoint, deps: VideoCommandDeps): void {
  const v = videoOn(ep);
  if (v === undefined) return;
  roomOf(from, v)?.removed(v);
  videoRoomOf(to, deps, v.role).adopt(v);
}
