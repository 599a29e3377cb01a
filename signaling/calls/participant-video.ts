import type { MediaControl } from '../../media/engine.ts';
import type { EndpointSnapshot, SessionSnapshot } from '../../media/protocol.ts';
import type { MediaDescription, SessionDescription } from '../sdp/anchor.ts';
import { chooseVideo, MEETING_H264_LEVEL, MEETING_VIDEO_KBPS, videoAnswerLines, videoEndpointOf } from './meeting-video.ts';
import type { ParticipantVideo } from './meeting-video.ts';

/** One of a participant's video lines Carillon answered, on its port. */
export interface VideoLine {
  video: ParticipantVideo;
  readonly port: number;
  /** Its endpoint's figures at the last quality record. */
  prev: EndpointSnapshot | undefined;
  /** It sent video between the last two looks. */
  sending: boolean;
  lastPackets: number;
}

export type VideoRole = 'camera' | 'content';
/** The payload type of the H.264 camera line Carillon offers. */
const OFFERED_VIDEO_PT = 109;
const ROLES: readonly VideoRole[] = ['camera', 'content'];

/**
 * A meeting participant's video media: its camera line and its presentation content line, each
 * an endpoint in the participant's media session (`<id>.v`, `<id>.c`) with the worker's video
 * function tied to its audio participant. It opens them from the participant's offer, answers
 * re-offers on the same ports, follows the audio into the meeting's session, and closes them.
 * A line Carillon cannot take is rejected in the answer; the call goes on without it.
 */
export class ParticipantVideoMedia {
  readonly #control: MediaControl;
  readonly #id: string;
  readonly #h323: boolean;
  readonly lines: { camera: VideoLine | undefined; content: VideoLine | undefined } = { camera: undefined, content: undefined };
  /** The camera port of Carillon's own offer (a late offer), until its answer comes. */
  #offeredPort: number | undefined;

  constructor(control: MediaControl, participantId: string, h323: boolean) {
    this.#control = control;
    this.#id = participantId;
    this.#h323 = h323;
  }

  get camera(): ParticipantVideo | undefined {
    return this.lines.camera?.video;
  }

  get content(): ParticipantVideo | undefined {
    return this.lines.content?.video;
  }

  endpointOf(role: VideoRole): string {
    return videoEndpointOf(this.#id, role);
  }

  /** Opens the lines `desc` offers (in `session`); answers their answer lines by index. */
  async open(session: string, desc: SessionDescription): Promise<Map<number, readonly string[]>> {
    const out = new Map<number, readonly string[]>();
    for (const role of ROLES) {
      const v = chooseVideo(desc, undefined, role);
      if (v === undefined) continue;
      const line = await this.#openLine(session, v, role);
      if (line === undefined) continue;
      this.lines[role] = line;
      out.set(v.index, videoAnswerLines(v, desc.media[v.index] as MediaDescription, line.port));
    }
    return out;
  }

  /**
   * Carillon's offer of a camera line, for a participant whose call came without an offer (an
   * H.323 slow start, a SIP late offer): H.264 Constrained Baseline 3.1, mode 1, PLI and FIR; its
   * endpoint opens now, its far end and function come with the answer (`answered`).
   */
  async offerCamera(session: string): Promise<readonly string[] | undefined> {
    const port = await this.#control
      .openEndpoint(session, this.endpointOf('camera'), { kind: 'video', ...(this.#h323 ? { portRange: 'h323' as const } : {}), clockRateHz: 90_000, codec: 'H264', functions: true })
      .catch(() => 'ports-exhausted' as const);
    if (port === 'ports-exhausted') return undefined;
    this.#offeredPort = port;
    const pt = OFFERED_VIDEO_PT;
    return [`m=video ${port} RTP/AVP ${pt}`, `b=AS:${MEETING_VIDEO_KBPS}`, `a=rtpmap:${pt} H264/90000`, `a=fmtp:${pt} profile-level-id=42e0${MEETING_H264_LEVEL.toString(16)};packetization-mode=1`, `a=rtcp-fb:${pt} nack pli`, `a=rtcp-fb:${pt} ccm fir`, 'a=sendrecv', `a=rtcp:${port + 1}`];
  }

  /** The answer to Carillon's offer: the camera it agreed is switched from now on; a refused one closes. */
  async answered(session: string, desc: SessionDescription): Promise<void> {
    const port = this.#offeredPort;
    this.#offeredPort = undefined;
    if (port === undefined) return;
    const v = chooseVideo(desc);
    const id = this.endpointOf('camera');
    if (v === undefined || v.srtp !== undefined) {
      void this.#control.closeEndpoint(session, id).catch(() => undefined);
      return;
    }
    try {
      await this.#control.updateEndpoint(session, id, v.remote);
      await this.#attach(session, v, 'camera');
      this.lines.camera = { video: v, port, prev: undefined, sending: false, lastPackets: 0 };
    } catch {
      void this.#control.closeEndpoint(session, id).catch(() => undefined);
    }
  }

  async #attach(session: string, v: ParticipantVideo, role: VideoRole): Promise<void> {
    await this.#control.attach(session, this.endpointOf(role), {
      fn: 'video',
      role,
      audioEndpoint: this.#id,
      codec: v.codec,
      payloadType: v.payloadType,
      packetizationMode: v.packetizationMode,
      keyFrame: { pli: v.feedback.pli, fir: v.feedback.fir, signaling: !v.feedback.pli && !v.feedback.fir },
      maxBitrateBps: v.maxBitrateBps,
      ...(v.h264Level === undefined ? {} : { h264Level: v.h264Level }),
    });
  }

  async #openLine(session: string, v: ParticipantVideo, role: VideoRole): Promise<VideoLine | undefined> {
    const id = this.endpointOf(role);
    const control = this.#control;
    try {
      const port = await control.openEndpoint(session, id, {
        kind: 'video',
        // H.323 legs take media from their own range (Chime's 5100–6200).
        ...(this.#h323 ? { portRange: 'h323' as const } : {}),
        clockRateHz: 90_000,
        codec: v.codec,
        functions: true,
        ...(v.srtp === undefined ? {} : { secure: true }),
        remote: v.remote,
      });
      if (port === 'ports-exhausted') return undefined;
      await this.#attach(session, v, role);
      return { video: v, port, prev: undefined, sending: false, lastPackets: 0 };
    } catch {
      void control.closeEndpoint(session, id).catch(() => undefined);
      return undefined;
    }
  }

  /** A re-offer: each agreed line on its port, updated (hold, address); lines it no longer offers are rejected. */
  async reoffer(session: string, desc: SessionDescription): Promise<Map<number, readonly string[]>> {
    const out = new Map<number, readonly string[]>();
    for (const role of ROLES) {
      const line = this.lines[role];
      if (line === undefined) continue;
      const v = chooseVideo(desc, line.video, role);
      if (v === undefined) continue;
      try {
        await this.#control.updateEndpoint(session, this.endpointOf(role), v.remote);
      } catch {
        continue;
      }
      line.video = v;
      out.set(v.index, videoAnswerLines(v, desc.media[v.index] as MediaDescription, line.port));
    }
    return out;
  }

  /** The lines follow the audio into another session of the same worker (false for a line that could not). */
  async move(from: string, to: string): Promise<void> {
    for (const role of ROLES) {
      if (this.lines[role] === undefined) continue;
      const r = await this.#control.moveEndpoint(from, this.endpointOf(role), to).catch(() => 'failed' as const);
      if (r !== 'moved') this.lines[role] = undefined;
    }
  }

  /** The lines are gone with a session Carillon gave up (a re-offer moved the audio to another worker). */
  drop(): void {
    this.lines.camera = undefined;
    this.lines.content = undefined;
  }

  /** Closes the lines; `final` gets each one's last figures. */
  close(session: string, final: (role: VideoRole, snap: EndpointSnapshot, line: VideoLine) => void): void {
    if (this.#offeredPort !== undefined) {
      this.#offeredPort = undefined;
      void this.#control.closeEndpoint(session, this.endpointOf('camera')).catch(() => undefined);
    }
    for (const role of ROLES) {
      const line = this.lines[role];
      if (line === undefined) continue;
      this.lines[role] = undefined;
      void this.#control
        .closeEndpoint(session, this.endpointOf(role))
        .then((snap) => {
          if (snap !== undefined) final(role, snap, line);
        })
        .catch(() => undefined);
    }
  }

  /** A session snapshot came (the sweep): whether each line sends, and its figures for a record when `record`. */
  observe(snap: SessionSnapshot, record: ((role: VideoRole, cur: EndpointSnapshot, line: VideoLine) => void) | undefined): void {
    for (const role of ROLES) {
      const line = this.lines[role];
      if (line === undefined) continue;
      const cur = snap.endpoints.find((e) => e.id === this.endpointOf(role));
      if (cur === undefined) continue;
      line.sending = cur.rtpPackets > line.lastPackets;
      line.lastPackets = cur.rtpPackets;
      if (record !== undefined) record(role, cur, line);
    }
  }
}
