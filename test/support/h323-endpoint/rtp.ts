/**
 * The test endpoint's media: an RTP/RTCP UDP socket pair (even port, +1) on its local address, a paced
 * 20 ms sender (a G.711 tone, or a constant G.722 payload: there is no G.722 encoder here) and a record
 * of what arrives, decodable for Goertzel. Real sockets and timers: this is test support.
 */
import dgram from 'node:dgram';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { goertzel } from '../goertzel.ts';

export interface ReceivedPacket {
  readonly pt: number;
  readonly seq: number;
  readonly ssrc: number;
  readonly payload: Buffer;
  readonly from: { readonly address: string; readonly port: number };
}

function bind(sock: dgram.Socket, port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    sock.once('error', onError);
    sock.bind(port, address, () => {
      sock.off('error', onError);
      resolve(true);
    });
  });
}

export class RtpPair {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  readonly received: ReceivedPacket[] = [];
  readonly rtcpReceived: Buffer[] = [];
  target: { address: string; port: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 1;
  #ts = 0;
  #sample = 0;
  readonly #ssrc = (Math.random() * 0xffffffff) >>> 0;
  #closed = false;

  private constructor(rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.rtp = rtp;
    this.rtcp = rtcp;
    rtp.on('message', (msg, rinfo) => {
      if (msg.length < 12 || (msg[0] ?? 0) >> 6 !== 2) return;
      const cc = (msg[0] ?? 0) & 0x0f;
      this.received.push({
        pt: (msg[1] ?? 0) & 0x7f,
        seq: msg.readUInt16BE(2),
        ssrc: msg.readUInt32BE(8),
        payload: Buffer.from(msg.subarray(12 + 4 * cc)),
        from: { address: rinfo.address, port: rinfo.port },
      });
    });
    rtcp.on('message', (msg) => this.rtcpReceived.push(Buffer.from(msg)));
  }

  /** Binds an even RTP port and the odd one above it (retrying while the kernel hands out odd or taken ones). */
  static async open(address: string): Promise<RtpPair> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const rtp = dgram.createSocket('udp4');
      if (!(await bind(rtp, 0, address))) {
        rtp.close();
        continue;
      }
      const port = rtp.address().port;
      if (port % 2 !== 0 || port >= 65535) {
        rtp.close();
        continue;
      }
      const rtcp = dgram.createSocket('udp4');
      if (await bind(rtcp, port + 1, address)) return new RtpPair(rtp, rtcp);
      rtcp.close();
      rtp.close();
    }
    throw new Error(`no free RTP/RTCP port pair on ${address}`);
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  /** Sends 20 ms packets of `hz` (G.711 PT 0/8) or a constant payload (any other PT) to `target`. */
  startTone(hz: number, payloadType: number, amplitude = 8000): void {
    this.stopTone();
    const enc = payloadType === 0 ? LINEAR_TO_ULAW : payloadType === 8 ? LINEAR_TO_ALAW : undefined;
    this.#timer = setInterval(() => {
      const t = this.target;
      if (t === undefined || this.#closed) return;
      const buf = Buffer.alloc(12 + 160);
      writeRtpHeader({ marker: this.#seq === 1, payloadType, sequence: this.#seq, timestamp: this.#ts, ssrc: this.#ssrc }, buf);
      for (let i = 0; i < 160; i++) {
        const v = Math.round(amplitude * Math.sin((2 * Math.PI * hz * this.#sample++) / 8000));
        buf[12 + i] = enc === undefined ? 0 : (enc[v + 32768] ?? 0);
      }
      this.#seq = (this.#seq + 1) & 0xffff;
      this.#ts = (this.#ts + 160) >>> 0;
      this.rtp.send(buf, t.port, t.address);
    }, 20);
  }

  stopTone(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Index into `received`: heardSince(mark) decodes only what came after. */
  mark(): number {
    return this.received.length;
  }

  /** 8 kHz PCM of the G.711 packets received after `mark` (other payload types skipped). */
  heardSince(mark = 0): number[] {
    const out: number[] = [];
    for (const r of this.received.slice(mark)) {
      const table = r.pt === 0 ? ULAW_TO_LINEAR : r.pt === 8 ? ALAW_TO_LINEAR : undefined;
      if (table === undefined) continue;
      for (const b of r.payload) out.push(table[b] ?? 0);
    }
    return out;
  }

  /** Goertzel amplitude of `hz` in the G.711 audio received after `mark`. */
  level(hz: number, mark = 0): number {
    return goertzel(this.heardSince(mark), hz, 8000);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopTone();
    this.rtp.close();
    this.rtcp.close();
  }
}
