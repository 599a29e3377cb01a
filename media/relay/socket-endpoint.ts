import type dgram from 'node:dgram';
import { createRtpHeader, isRtcpPayloadType, parseRtpInto } from '../rtp/rtp-header.ts';
import { Endpoint } from './endpoint.ts';
import type { MediaFunction } from './endpoint.ts';
import type { PortPair } from './port-pool.ts';

/** One header struct reused for every packet of every socket endpoint (the worker is one thread). */
const header = createRtpHeader();

/**
 * An endpoint on Carillon's own sockets (STYLE.md 3–4): the handler decrypts (SRTP), reads the
 * header in place into a struct reused for every packet, latches, counts, feeds the media
 * functions and sends the very Buffer it received out of the peer's socket. No logging, no
 * per-packet objects of ours. Used for SRTP, media functions, IPv6, and where the native mover
 * is not built.
 */
export class SocketEndpoint extends Endpoint<PortPair> {
  readonly path = 'sockets';

  /** Starts reading the sockets (once the endpoint is fully set up). */
  listen(): void {
    this.ports.rtp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtp(buf, rinfo));
    this.ports.rtcp.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => this.#onRtcp(buf, rinfo, false));
  }

  /** RTCP (relayed, or Carillon's own) to the far end, as SRTCP when the leg is secure. */
  sendFrom(buf: Buffer, len: number, viaRtcp: boolean, port: number, address: string): void {
    // dgram throws on a port outside 1–65535; a peer's SDP or source decides this one.
    if (port < 1 || port > 65535) return;
    const sock = viaRtcp ? this.ports.rtcp : this.ports.rtp;
    const out = this.srtp.out;
    if (out === undefined) return sock.send(buf, 0, len, port, address);
    const p = out.protectRtcp(buf.subarray(0, len));
    if (p !== undefined) sock.send(p, port, address);
  }

  sendRtp(buf: Buffer, len: number): void {
    const l = this.latch;
    if (l.peerAddress === undefined || l.peerPort < 1 || l.peerPort > 65535) return;
    const out = this.srtp.out;
    const p = out === undefined ? buf : out.protectRtp(len === buf.length ? buf : buf.subarray(0, len));
    if (p !== undefined) this.ports.rtp.send(p, 0, p === buf ? len : p.length, l.peerPort, l.peerAddress);
  }

  protected remoteChanged(): void {
    // the handler reads the latch itself
  }

  protected peerChanged(): void {
    // the handler reads `peer` itself
  }

  sync(): void {
    // updated per packet
  }

  /** RTCP from the far end (SRTCP checked and decrypted first on a secure leg). */
  #onRtcp(wire: Buffer, rinfo: dgram.RemoteInfo, muxed: boolean): void {
    let buf = wire;
    const srtpIn = this.srtp.in;
    if (srtpIn !== undefined) {
      const r = srtpIn.unprotectRtcp(wire);
      if (!r.ok) {
        this.stats.received.dropped++;
        return;
      }
      buf = r.packet;
    }
    this.handleRtcp(buf, buf.length, rinfo.address, rinfo.port, muxed, this.clock.monoMs(), false);
  }

  #onRtp(wire: Buffer, rinfo: dgram.RemoteInfo): void {
    if (isRtcpPayloadType(wire, wire.length)) {
      // rtcp-mux (RFC 5761): RTCP arrives on the RTP port.
      this.#onRtcp(wire, rinfo, true);
      return;
    }
    const st = this.stats;
    // A secure leg: authenticate and decrypt first (a forgery or replay is dropped, counted).
    let buf = wire;
    const srtpIn = this.srtp.in;
    if (srtpIn !== undefined) {
      const r = srtpIn.unprotectRtp(wire);
      if (!r.ok) {
        st.received.dropped++;
        return;
      }
      buf = r.packet;
    }
    const len = buf.length;
    const h = header;
    const c = this.continuity;
    if (parseRtpInto(buf, len, h) !== undefined || !this.latch.accept(rinfo.address, rinfo.port, h.ssrc !== c.lastSsrc)) {
      st.received.dropped++;
      return;
    }
    c.onPacket(h.ssrc, h.sequence, h.timestamp);
    st.received.rtpPackets++;
    st.received.rtpBytes += len;
    this.noteRtp(h.ssrc, h.sequence, h.timestamp, h.payloadType, h.payloadLength, h.payloadLength >= 4 ? buf.readUInt32BE(h.payloadOffset) : 0, this.clock.monoMs());
    const fns = this.functions;
    let taken = false;
    if (fns.length > 0) {
      // Media functions hear the continuous timeline the receiver sees (across SSRC changes).
      const ts = c.outTs(h.timestamp);
      const wallMs = this.clock.nowMs();
      for (let i = 0; i < fns.length; i++) if ((fns[i] as MediaFunction).onRtp(buf, h, ts, wallMs)) taken = true;
    }
    const to = this.peer;
    if (to === undefined || to.latch.peerAddress === undefined) {
      // Nowhere to relay it: dropped, unless a media function took it (a recording, a meeting).
      if (!taken) st.received.dropped++;
      return;
    }
    c.forward(buf, h.sequence, h.timestamp);
    to.stats.sent.rtpPackets++;
    to.stats.sent.rtpBytes += len;
    to.sendRtp(buf, len);
  }

  protected detach(): void {
    this.ports.rtp.removeAllListeners('message');
    this.ports.rtcp.removeAllListeners('message');
  }
}
