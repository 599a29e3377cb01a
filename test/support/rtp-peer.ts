import dgram from 'node:dgram';
import { writeRtpHeader } from '../../media/rtp/rtp-header.ts';

/**
 * A test RTP endpoint on loopback: generator and sink. It sends paced G.711 (or any payload type)
 * with controlled impairment — loss, reordering, uniform jitter — and records what it receives,
 * and it can answer SRs with RRs after a fixed network delay (RTT truth). It records the exact
 * send times, so the truth an assertion compares with is what was really sent, not what a timer
 * was asked for.
 */
export interface ReceivedRtp {
  readonly seq: number;
  readonly ts: number;
  readonly ssrc: number;
  readonly pt: number;
  readonly packet: Buffer;
  readonly from: { address: string; port: number };
}

export interface StreamPlan {
  readonly packets: number;
  /** Packet interval, ms (timestamps advance ptime × 8 samples at 8 kHz). */
  readonly ptimeMs: number;
  readonly ssrc: number;
  readonly payloadType?: number;
  readonly clockRateHz?: number;
  readonly firstSeq?: number;
  /** Sequence offsets (0-based packet indexes) never sent: the injected loss. */
  readonly drop?: ReadonlySet<number>;
  /** Packet indexes sent after their successor (swapped pairs). */
  readonly swapAfterNext?: ReadonlySet<number>;
  /** Uniform send-time jitter ±ms around the schedule (deterministic from `seed`). */
  readonly jitterMs?: number;
  readonly seed?: number;
  /** Payload bytes for packet i (default: 160 bytes derived from i). */
  readonly payload?: (i: number) => Buffer;
}

export interface SentPacket {
  readonly index: number;
  readonly seq: number;
  readonly ts: number;
  /** performance.now() when it was handed to the socket. */
  readonly atMs: number;
  readonly bytes: Buffer;
}

/** Deterministic uniform [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` distinct indexes out of [from, n−1) chosen by `seed` (loss and reorder patterns). The
 * first packets are left alone: a receiver validates a new source on them (RFC 3550 A.1).
 */
export function pickIndexes(n: number, count: number, seed: number, from = 5): Set<number> {
  const rnd = seeded(seed);
  const out = new Set<number>();
  while (out.size < count) out.add(from + Math.floor(rnd() * (n - 1 - from)));
  return out;
}

export class RtpPeer {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  readonly received: ReceivedRtp[] = [];
  readonly rtcpReceived: Buffer[] = [];
  target: { address: string; port: number; rtcpPort: number } | undefined;
  #rtcpAnswerDelayMs: number | undefined;
  #rtcpSsrc = 0x5eed0001;
  #closed = false;
  /** How long each RR answer was really held (ms), in order. */
  readonly rtcpHoldsMs: number[] = [];

  private constructor(rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.rtp = rtp;
    this.rtcp = rtcp;
    rtp.on('message', (b, r) => this.#onRtp(b, r));
    rtcp.on('message', (b) => this.#onRtcp(b));
  }

  /** Binds an RTP socket on an even port and RTCP on the next one. */
  static async open(address = '127.0.0.1'): Promise<RtpPeer> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 20000 + 2 * Math.floor(Math.random() * 4000);
      const rtp = await bind(address, port);
      if (rtp === undefined) continue;
      const rtcp = await bind(address, port + 1);
      if (rtcp === undefined) {
        rtp.close();
        continue;
      }
      return new RtpPeer(rtp, rtcp);
    }
    throw new Error('no free RTP port pair for the test peer');
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  get address(): string {
    return this.rtp.address().address;
  }

  /** An SDP body offering/answering PCMU (+ telephone-event 101) at this peer's ports. */
  sdp(opts: { sessionId?: number; direction?: string; advertisedPort?: number } = {}): string {
    const port = opts.advertisedPort ?? this.rtpPort;
    const dir = opts.direction ?? 'sendrecv';
    return [
      'v=0',
      `o=peer ${opts.sessionId ?? 1} 1 IN IP4 ${this.address}`,
      's=-',
      `c=IN IP4 ${this.address}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      `a=${dir}`,
      '',
    ].join('\r\n');
  }

  #onRtp(b: Buffer, r: dgram.RemoteInfo): void {
    if (b.length >= 2 && (b[1] as number) >= 192 && (b[1] as number) <= 223) {
      this.#onRtcp(b);
      return;
    }
    if (b.length < 12) return;
    this.received.push({ seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), pt: (b[1] as number) & 0x7f, packet: b, from: { address: r.address, port: r.port } });
  }

  #onRtcp(b: Buffer): void {
    this.rtcpReceived.push(b);
    const delay = this.#rtcpAnswerDelayMs;
    if (delay === undefined || this.target === undefined) return;
    // Answer every SR in the compound with an RR block (LSR = its middle 32 bits, DLSR = 0),
    // sent `delay` ms later: the round trip Carillon measures to this peer is the delay.
    let off = 0;
    const blocks: Buffer[] = [];
    while (off + 8 <= b.length) {
      const pt = b[off + 1] as number;
      const len = (b.readUInt16BE(off + 2) + 1) * 4;
      if (pt === 200 && off + 28 <= b.length) {
        const ssrc = b.readUInt32BE(off + 4);
        const mid = ((b.readUInt32BE(off + 8) & 0xffff) << 16) | (b.readUInt32BE(off + 12) >>> 16);
        const blk = Buffer.alloc(24);
        blk.writeUInt32BE(ssrc, 0);
        blk.writeUInt32BE(mid >>> 0, 16);
        blocks.push(blk);
      }
      off += len;
    }
    if (blocks.length === 0) return;
    const rr = Buffer.alloc(8 + 24 * blocks.length);
    rr[0] = 0x80 | blocks.length;
    rr[1] = 201;
    rr.writeUInt16BE(rr.length / 4 - 1, 2);
    rr.writeUInt32BE(this.#rtcpSsrc, 4);
    blocks.forEach((blk, i) => blk.copy(rr, 8 + 24 * i));
    const t = this.target;
    const got = performance.now();
    const due = got + delay;
    // Timer lateness would add to the injected delay: wake a little early, spin to the exact time,
    // and record the hold really applied (the RTT truth).
    setTimeout(() => {
      while (performance.now() < due) {
        // spin
      }
      if (this.#closed) return;
      this.rtcp.send(rr, t.rtcpPort, t.address);
      this.rtcpHoldsMs.push(performance.now() - got);
    }, Math.max(0, delay - 2));
  }

  /** From now on, answer each SR after `delayMs` (the injected round trip). */
  answerRtcpAfter(delayMs: number): void {
    this.#rtcpAnswerDelayMs = delayMs;
  }

  sendTo(address: string, port: number, rtcpPort = port + 1): void {
    this.target = { address, port, rtcpPort };
  }

  /** Sends one raw datagram to the target's RTP port. */
  sendRaw(buf: Buffer): void {
    const t = this.target;
    if (t === undefined) throw new Error('no target');
    this.rtp.send(buf, t.port, t.address);
  }

  /** Sends a paced stream with the planned impairment; resolves with what was really sent. */
  async sendStream(plan: StreamPlan): Promise<SentPacket[]> {
    const t = this.target;
    if (t === undefined) throw new Error('no target');
    const rate = plan.clockRateHz ?? 8000;
    const samples = (plan.ptimeMs * rate) / 1000;
    const rnd = seeded(plan.seed ?? 1);
    const first = plan.firstSeq ?? 1000;
    const start = performance.now() + 5;
    const schedule: { index: number; due: number }[] = [];
    for (let i = 0; i < plan.packets; i++) {
      const j = plan.jitterMs === undefined ? 0 : (rnd() * 2 - 1) * plan.jitterMs;
      if (plan.drop?.has(i) === true) continue;
      schedule.push({ index: i, due: start + i * plan.ptimeMs + j + (plan.jitterMs ?? 0) });
    }
    schedule.sort((x, y) => x.due - y.due);
    for (let k = 0; k + 1 < schedule.length; k++) {
      const cur = schedule[k] as { index: number; due: number };
      const next = schedule[k + 1] as { index: number; due: number };
      if (plan.swapAfterNext?.has(cur.index) === true) {
        const idx = cur.index;
        cur.index = next.index;
        next.index = idx;
        k++;
      }
    }
    const sent: SentPacket[] = [];
    for (const item of schedule) {
      const wait = item.due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait - 0.5));
      while (performance.now() < item.due) {
        // spin the last half millisecond for an exact send time
      }
      const i = item.index;
      const payload = plan.payload?.(i) ?? defaultPayload(i);
      const buf = Buffer.alloc(12 + payload.length);
      const seq = (first + i) & 0xffff;
      const ts = (0x10000 + i * samples) >>> 0;
      writeRtpHeader({ marker: i === 0, payloadType: plan.payloadType ?? 0, sequence: seq, timestamp: ts, ssrc: plan.ssrc }, buf);
      payload.copy(buf, 12);
      this.rtp.send(buf, t.port, t.address);
      sent.push({ index: i, seq, ts, atMs: performance.now(), bytes: buf });
    }
    return sent;
  }

  close(): void {
    this.#closed = true;
    for (const s of [this.rtp, this.rtcp]) {
      try {
        s.close();
      } catch {
        // closed
      }
    }
  }
}

function defaultPayload(i: number): Buffer {
  const p = Buffer.alloc(160);
  for (let k = 0; k < 160; k++) p[k] = (i * 7 + k) & 0xff;
  return p;
}

function bind(address: string, port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, address, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

/** RFC 3550 A.8 interarrival jitter (µs) a receiver with zero network variation sees for `sent`. */
export function jitterTruthUs(sent: readonly SentPacket[], clockRateHz = 8000): number {
  let j = 0;
  let prev: number | undefined;
  for (const p of sent) {
    const transit = (p.atMs * clockRateHz) / 1000 - p.ts;
    if (prev !== undefined) j += (Math.abs(transit - prev) - j) / 16;
    prev = transit;
  }
  return (j * 1_000_000) / clockRateHz;
}

export async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An RFC 4733 telephone-event packet. */
export function dtmfPacket(opts: { seq: number; ts: number; ssrc: number; pt: number; event: number; end: boolean; duration: number }): Buffer {
  const b = Buffer.alloc(16);
  writeRtpHeader({ marker: false, payloadType: opts.pt, sequence: opts.seq, timestamp: opts.ts, ssrc: opts.ssrc }, b);
  b[12] = opts.event;
  b[13] = (opts.end ? 0x80 : 0) | 10;
  b.writeUInt16BE(opts.duration, 14);
  return b;
}
