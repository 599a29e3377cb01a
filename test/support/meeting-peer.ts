import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../media/codecs/g711.ts';
import { writeRtpHeader } from '../../media/rtp/rtp-header.ts';
import { goertzel } from './goertzel.ts';
import { dtmfPacket, RtpPeer, until } from './rtp-peer.ts';

/**
 * The media half of a test meeting participant (SIPp does its signaling): G.711 on loopback. It
 * learns where Carillon sends from by the first RTP packet that reaches it (symmetric RTP: a
 * participant answers where the media comes from), then sends a tone every 20 ms and RFC 4733
 * digits on the same stream, and keeps what it hears decoded, in arrival order, for Goertzel.
 */
export class MeetingPeer {
  readonly rtp: RtpPeer;
  readonly payloadType: 0 | 8;
  #timer: NodeJS.Timeout | undefined;
  #hz = 0;
  #amplitude = 0;
  #seq = 1000;
  #ts = 0x1000;
  #sample = 0;
  readonly #ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  #digitQueue: { event: number; sent: number }[] = [];

  private constructor(rtp: RtpPeer, payloadType: 0 | 8) {
    this.rtp = rtp;
    this.payloadType = payloadType;
  }

  static async open(payloadType: 0 | 8 = 0): Promise<MeetingPeer> {
    return new MeetingPeer(await RtpPeer.open(), payloadType);
  }

  get port(): number {
    return this.rtp.rtpPort;
  }

  /** Packets received from Carillon (audio and anything else). */
  get packets(): number {
    return this.rtp.received.length;
  }

  /** Waits for Carillon's first packet and starts the 20 ms send loop (a tone when set, else silence). */
  async start(timeoutMs = 10_000): Promise<void> {
    await until(() => this.rtp.received.length > 0, timeoutMs);
    const first = this.rtp.received[0];
    if (first === undefined) throw new Error('no media from Carillon');
    this.rtp.sendTo(first.from.address, first.from.port);
    this.#timer ??= setInterval(() => this.#tick(), 20);
  }

  tone(hz: number, amplitude = 8000): void {
    this.#hz = hz;
    this.#amplitude = amplitude;
  }

  silence(): void {
    this.#amplitude = 0;
  }

  /** Queues RFC 4733 digits (each 100 ms of events then its end, 100 ms apart), on the same stream. */
  digits(digits: string): void {
    for (const d of digits) {
      const event = '0123456789*#ABCD'.indexOf(d);
      if (event >= 0) this.#digitQueue.push({ event, sent: 0 });
    }
  }

  /** Resolves once every queued digit was sent. */
  async digitsSent(timeoutMs = 20_000): Promise<void> {
    await until(() => this.#digitQueue.length === 0, timeoutMs);
  }

  #tick(): void {
    // Symmetric RTP: media goes where Carillon's latest packets come from (a re-INVITE moves them).
    const latest = this.rtp.received.at(-1);
    const cur = this.rtp.target;
    if (latest !== undefined && cur !== undefined && (latest.from.port !== cur.port || latest.from.address !== cur.address)) this.rtp.sendTo(latest.from.address, latest.from.port);
    const t = this.rtp.target;
    if (t === undefined) return;
    const d = this.#digitQueue[0];
    if (d !== undefined) {
      // 5 frames of the event, 3 end packets (same timestamp, RFC 4733 §2.5.1.4), then 5 frames of gap.
      if (d.sent < 5 || (d.sent >= 5 && d.sent < 8)) {
        const end = d.sent >= 5;
        const duration = Math.min(5, d.sent + 1) * 160;
        this.rtp.rtp.send(dtmfPacket({ seq: this.#nextSeq(), ts: this.#ts, ssrc: this.#ssrc, pt: 101, event: d.event, end, duration }), t.port, t.address);
        d.sent++;
        if (d.sent === 8) this.#ts = (this.#ts + 5 * 160) >>> 0;
        return;
      }
      d.sent++;
      if (d.sent >= 13) this.#digitQueue.shift();
    }
    const buf = Buffer.alloc(12 + 160);
    writeRtpHeader({ marker: false, payloadType: this.payloadType, sequence: this.#nextSeq(), timestamp: this.#ts, ssrc: this.#ssrc }, buf);
    const enc = this.payloadType === 0 ? LINEAR_TO_ULAW : LINEAR_TO_ALAW;
    for (let i = 0; i < 160; i++) {
      const v = Math.round(this.#amplitude * Math.sin((2 * Math.PI * this.#hz * this.#sample++) / 8000));
      buf[12 + i] = enc[v + 32768] ?? 0;
    }
    this.#ts = (this.#ts + 160) >>> 0;
    this.rtp.rtp.send(buf, t.port, t.address);
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) & 0xffff;
    return this.#seq;
  }

  /** Marks "now" in what was received: heardSince(mark) decodes only what came after. */
  mark(): number {
    return this.rtp.received.length;
  }

  /** The G.711 audio received after `mark` (8 kHz PCM, packets in arrival order; other payload types skipped). */
  heardSince(mark: number): number[] {
    const out: number[] = [];
    for (const r of this.rtp.received.slice(mark)) {
      const table = r.pt === 0 ? ULAW_TO_LINEAR : r.pt === 8 ? ALAW_TO_LINEAR : undefined;
      if (table === undefined) continue;
      const cc = (r.packet[0] as number) & 0x0f;
      for (let i = 12 + 4 * cc; i < r.packet.length; i++) out.push(table[r.packet[i] as number] as number);
    }
    return out;
  }

  /** Goertzel amplitude of `hz` in what was received after `mark`. */
  level(hz: number, mark: number): number {
    return goertzel(this.heardSince(mark), hz, 8000);
  }

  close(): void {
    clearInterval(this.#timer);
    this.rtp.close();
  }
}
