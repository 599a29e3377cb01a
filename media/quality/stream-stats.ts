/**
 * Receive statistics of one RTP stream (RFC 3550 Appendix A.1, A.3, A.8): sequence tracking with
 * wrap-around, probation and resynchronisation, cumulative and interval loss, and interarrival
 * jitter. Plain number fields and one update per packet: nothing is allocated on the packet path.
 */
const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;
/** Extended sequence numbers remembered for duplicate detection (a power of two). */
const SEEN_WINDOW = 1024;

export class StreamStats {
  readonly clockRateHz: number;
  maxSeq = 0;
  /** Shifted count of sequence number cycles (multiples of 65536). */
  cycles = 0;
  baseSeq = 0;
  badSeq = RTP_SEQ_MOD + 1;
  probation = MIN_SEQUENTIAL;
  received = 0;
  bytes = 0;
  expectedPrior = 0;
  receivedPrior = 0;
  /** Last transit time (arrival in clock units − RTP timestamp) for the jitter estimator. */
  transit = 0;
  /** Interarrival jitter estimate in RTP timestamp units (A.8, floating point). */
  jitter = 0;
  /** Packets received twice (not counted as received, so they cannot hide loss). */
  duplicates = 0;
  #hasTransit = false;
  readonly #seen = new Float64Array(SEEN_WINDOW).fill(-1);

  constructor(clockRateHz: number) {
    this.clockRateHz = clockRateHz;
  }

  #init(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
    this.#seen.fill(-1);
  }

  /**
   * Counts one packet (A.1 update_seq). `arrivalMs` is the local arrival time in milliseconds;
   * `timing` false leaves it out of the jitter estimate (RFC 4733 events carry the event's start
   * time, not the sampling instant).
   * Returns false for a packet judged invalid (probation or a big jump not yet confirmed).
   */
  update(seq: number, rtpTimestamp: number, arrivalMs: number, payloadBytes: number, timing = true): boolean {
    const udelta = (seq - this.maxSeq + RTP_SEQ_MOD) % RTP_SEQ_MOD;
    if (this.probation > 0) {
      if (seq === (this.maxSeq + 1) % RTP_SEQ_MOD) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.#init(seq);
          this.#seen[seq & (SEEN_WINDOW - 1)] = seq;
          this.#count(rtpTimestamp, arrivalMs, payloadBytes, timing);
          return true;
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return false;
    }
    let ext: number;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
      ext = this.cycles + seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: resynchronise only if the next packet follows it.
      if (seq === this.badSeq) {
        this.#init(seq);
        ext = seq;
      } else {
        this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    } else {
      // A late (reordered) or duplicate packet: it belongs before maxSeq, maybe in the previous cycle.
      ext = seq > this.maxSeq ? this.cycles - RTP_SEQ_MOD + seq : this.cycles + seq;
    }
    const slot = ext & (SEEN_WINDOW - 1);
    if (this.#seen[slot] === ext) {
      this.duplicates++;
      return false;
    }
    this.#seen[slot] = ext;
    this.#count(rtpTimestamp, arrivalMs, payloadBytes, timing);
    return true;
  }

  #count(rtpTimestamp: number, arrivalMs: number, payloadBytes: number, timing: boolean): void {
    this.received++;
    this.bytes += payloadBytes;
    if (!timing) return;
    // A.8: transit = arrival (in RTP units) − timestamp; J += (|D| − J) / 16.
    const arrival = (arrivalMs * this.clockRateHz) / 1000;
    const transit = arrival - rtpTimestamp;
    if (this.#hasTransit) {
      let d = transit - this.transit;
      if (d < 0) d = -d;
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
    this.#hasTransit = true;
  }

  /** Extended highest sequence number received. */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected so far (A.3). */
  get expected(): number {
    return this.received === 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative packets lost (A.3); duplicates are not counted as received, so this is never hidden by them. */
  get cumulativeLost(): number {
    return this.expected - this.received;
  }

  /** Fraction lost since the previous call, 8-bit fixed point (A.3); advances the interval. */
  takeFractionLost(): number {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    if (expectedInterval === 0 || lostInterval <= 0) return 0;
    return Math.floor((lostInterval << 8) / expectedInterval);
  }

  /** Jitter in microseconds (Chime's unit). */
  get jitterUs(): number {
    return (this.jitter * 1_000_000) / this.clockRateHz;
  }
}
