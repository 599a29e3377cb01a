/**
 * RFC 4733 telephone-event detection on a relayed stream (the packets themselves are relayed
 * untouched). Payload:
 *
 *    0                   1                   2                   3
 *   |     event     |E|R| volume    |          duration             |
 *
 * One event spans several packets with the same RTP timestamp; the end packet (E) is usually sent
 * three times. A digit is reported once, at its first end packet, or when a new event starts
 * after one whose end packets were all lost.
 */
export const DTMF_EVENTS = '0123456789*#ABCD';

export class DtmfDetector {
  #timestamp = -1;
  #event = -1;
  #durationUnits = 0;
  #reported = true;
  /** Event code and duration (RTP units) of the last digit reported. */
  lastEvent = -1;
  lastDurationUnits = 0;

  /**
   * Reads one telephone-event payload. Returns the event code (0–15 are DTMF digits) of a digit
   * that completed with this packet, or -1.
   */
  onPacket(buf: Buffer, payloadOffset: number, payloadLength: number, timestamp: number): number {
    if (payloadLength < 4) return -1;
    return this.onWord(buf.readUInt32BE(payloadOffset), timestamp);
  }

  /** The same, from the payload's first 32-bit word (event, E bit, volume, duration). */
  onWord(word: number, timestamp: number): number {
    const event = word >>> 24;
    const end = (word & 0x800000) !== 0;
    const duration = word & 0xffff;
    let completed = -1;
    if (timestamp !== this.#timestamp) {
      if (!this.#reported && this.#event >= 0) completed = this.#finish(this.#event, this.#durationUnits);
      this.#timestamp = timestamp;
      this.#event = event;
      this.#reported = false;
    }
    this.#durationUnits = duration;
    if (end && !this.#reported) {
      this.#reported = true;
      // A digit that completed just now wins over a flushed one (rare: both in one packet).
      completed = this.#finish(event, duration);
    }
    return completed;
  }

  #finish(event: number, duration: number): number {
    this.lastEvent = event;
    this.lastDurationUnits = duration;
    return event;
  }
}

/** The digit character for an event code, or undefined for non-DTMF events (tones, flash). */
export function dtmfDigit(event: number): string | undefined {
  return event >= 0 && event < DTMF_EVENTS.length ? DTMF_EVENTS[event] : undefined;
}
