import { DtmfDetector } from '../dtmf/telephone-event.ts';
import { StreamStats } from '../quality/stream-stats.ts';

/** Counters of one direction (read at scrape/record time, STYLE.md 13). */
export interface DirectionCounters {
  rtpPackets: number;
  rtpBytes: number;
  /** RTCP relayed (Carillon's own RTCP is counted by the endpoint's RtcpState). */
  rtcpPackets: number;
  rtcpBytes: number;
  /** Datagrams that were neither RTP nor RTCP, came from a stranger, or had nowhere to go. */
  dropped: number;
}

export function directionCounters(): DirectionCounters {
  return { rtpPackets: 0, rtpBytes: 0, rtcpPackets: 0, rtcpBytes: 0, dropped: 0 };
}

/**
 * What has come in from one endpoint and gone out to it: packet counters (written by whatever
 * moves the endpoint's packets — the socket handler, or `NativeMover.sync` from the mover's
 * counters), and the receive statistics and DTMF of what the endpoint sends (written by
 * `note`, fed per packet on sockets and per ring record on the native mover).
 */
export class EndpointStats {
  /** From this endpoint into Carillon. */
  readonly received: DirectionCounters = directionCounters();
  /** From Carillon to this endpoint (relayed packets). */
  readonly sent: DirectionCounters = directionCounters();
  /** Packets moved whose headers statistics never saw (the native mover's ring was full); not drops. */
  unobserved = 0;
  /** Receive statistics of the current source (replaced when the endpoint changes SSRC). */
  stream: StreamStats;
  /** SSRC the statistics are about (-1: none yet). */
  ssrc = -1;
  /** Expected/received packets of earlier sources of this endpoint (loss stays cumulative). */
  priorExpected = 0;
  priorReceived = 0;
  /** Monotonic ms of the last RTP packet from this endpoint (-1: none yet). */
  lastRtpMs = -1;
  readonly dtmf = new DtmfDetector();

  constructor(clockRateHz: number) {
    this.stream = new StreamStats(clockRateHz);
  }

  /**
   * One accepted RTP packet from the endpoint; returns the RFC 4733 event that just ended, or -1.
   * `dtmf`: its payload type carries telephone-event (left out of jitter).
   */
  note(ssrc: number, seq: number, ts: number, dtmf: boolean, payloadLength: number, firstWord: number, nowMs: number): number {
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) {
        this.priorExpected += this.stream.expected;
        this.priorReceived += this.stream.received;
        this.stream = new StreamStats(this.stream.clockRateHz);
      }
      this.ssrc = ssrc;
    }
    this.lastRtpMs = nowMs;
    this.stream.update(seq, ts, nowMs, payloadLength, !dtmf);
    return dtmf && payloadLength >= 4 ? this.dtmf.onWord(firstWord, ts) : -1;
  }

  /** Packets lost so far from this endpoint, across source changes. */
  get packetsLost(): number {
    return this.priorExpected - this.priorReceived + this.stream.cumulativeLost;
  }

  get packetsExpected(): number {
    return this.priorExpected + this.stream.expected;
  }
}
