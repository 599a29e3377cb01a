/**
 * Where an endpoint receives, and symmetric RTP latching (the first packets, and a new SSRC,
 * teach where the endpoint really is, so media goes back to the NAT binding it sends from, not to
 * the private SDP address). One owner per path: on Carillon's sockets this module is the truth and
 * the socket packet handler calls `accept`; on the native mover `media/native/relay.c` applies the
 * same rules and `NativeMover.sync` copies its answer here with `mirror`. Both pass the shared
 * table in test/media/relay/latching-cases.ts.
 */
export class Latch {
  /** Where the endpoint receives RTP (undefined: nowhere known yet); RTCP goes to peerRtcpPort. */
  peerAddress: string | undefined;
  peerPort = 0;
  peerRtcpPort = 0;
  rtcpMux = false;
  /** What the endpoint's SDP last said (latching overrides it until the SDP changes). */
  sdpAddress: string | undefined;
  sdpPort = 0;
  /** Whether the peer address was learnt from received packets (symmetric RTP, NAT). */
  latched = false;
  /** Times the latched source moved (re-latching on a new SSRC from elsewhere). */
  relatches = 0;
  /** Strict mode: accept and send only to the SDP address, never latch. */
  readonly strict: boolean;

  constructor(strict: boolean) {
    this.strict = strict;
  }

  /**
   * Sets where the endpoint said it receives (SDP c=/m=/a=rtcp). A new SDP address (re-INVITE to
   * another endpoint) drops what was latched: media goes there until the new endpoint's own
   * packets teach its real source. The same SDP again keeps the latch.
   */
  setRemote(address: string | undefined, port: number, rtcpPort: number, rtcpMux: boolean): void {
    this.rtcpMux = rtcpMux;
    const changed = address !== this.sdpAddress || port !== this.sdpPort;
    this.sdpAddress = address;
    this.sdpPort = port;
    if (this.latched && !this.strict && address !== undefined && !changed) return;
    this.latched = false;
    this.peerAddress = address;
    this.peerPort = port;
    this.peerRtcpPort = rtcpMux ? port : rtcpPort;
  }

  /**
   * Whether an RTP packet from `address:port` is the endpoint's (socket path). `newSource`: its
   * SSRC differs from the last one accepted; outside strict mode that (re)latches.
   */
  accept(address: string, port: number, newSource: boolean): boolean {
    if (this.strict) return this.peerAddress === undefined || (address === this.peerAddress && port === this.peerPort);
    if (!this.latched || newSource) {
      if (this.latched && (address !== this.peerAddress || port !== this.peerPort)) this.relatches++;
      this.peerAddress = address;
      this.peerPort = port;
      // RTCP on the next port (RFC 3550 §11) — none when RTP came from the top port.
      this.peerRtcpPort = this.rtcpMux ? port : port < 65535 ? port + 1 : 0;
      this.latched = true;
      return true;
    }
    return address === this.peerAddress && port === this.peerPort;
  }

  /** RTCP from the latched address on another port: the endpoint's real RTCP source (symmetric RTCP). */
  learnRtcpPort(address: string, port: number, muxed: boolean): void {
    if (!this.strict && !muxed && this.latched && address === this.peerAddress) this.peerRtcpPort = port;
  }

  /** Whether RTCP from `address` is acceptable (strict mode: only the SDP address). */
  acceptsRtcpFrom(address: string): boolean {
    return this.peerAddress === undefined || !this.strict || address === this.peerAddress;
  }

  /** The native mover's view (its counters), copied in at sync time. */
  mirror(peerAddress: string | undefined, peerPort: number, peerRtcpPort: number, latched: boolean, relatches: number): void {
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.peerRtcpPort = peerRtcpPort;
    this.latched = latched;
    this.relatches = relatches;
  }
}
