import type { DialOutResult, LiveActionResult, LiveMeeting, LiveMeetings, LiveParticipant } from '../../signaling/calls/meeting-events.ts';

/**
 * An in-memory LiveMeetings for the control plane's tests: meetings in progress are whatever a
 * test puts in, each moderator action changes that state as the meeting call layer would, and
 * every call is recorded. (The real one, the meeting call layer, is tested end to end with SIP peers.)
 */
export interface LiveCall {
  readonly op: 'mute' | 'muteAllOthers' | 'remove' | 'lock' | 'end' | 'dialOut' | 'stop-presenting';
  readonly meetingId: string;
  readonly args: readonly unknown[];
}

interface MutableMeeting {
  started: boolean;
  locked: boolean;
  recording: boolean;
  participants: LiveParticipant[];
}

export class InMemoryLiveMeetings implements LiveMeetings {
  readonly calls: LiveCall[] = [];
  readonly #meetings = new Map<string, MutableMeeting>();
  /** What the next dial-outs answer (default: placed, transaction ids in sequence). */
  dialOutAnswer: ((meetingId: string, to: string, from: string | undefined) => DialOutResult) | undefined;
  #transactions = 0;

  /** Puts a meeting in progress with these participants. */
  start(meetingId: string, participants: readonly Partial<LiveParticipant>[], opts: { started?: boolean } = {}): void {
    this.#meetings.set(meetingId, {
      started: opts.started ?? true,
      locked: false,
      recording: false,
      participants: participants.map((p, i) => ({
        participantId: `p-${i + 1}`,
        role: 'attendee',
        joinPath: 'dial-in',
        protocol: 'sip',
        transport: 'udp',
        callerNumber: `+1415555010${i}`,
        codec: 'PCMU',
        state: 'in-meeting',
        muted: false,
        talking: false,
        mos: 4.3,
        video: null,
        presenting: false,
        joinedAtMs: Date.UTC(2026, 0, 1),
        ...p,
      })),
    });
  }

  live(meetingId: string): LiveMeeting | undefined {
    const m = this.#meetings.get(meetingId);
    return m === undefined ? undefined : { meetingId, started: m.started, locked: m.locked, recording: m.recording, participants: m.participants.map((p) => ({ ...p })) };
  }

  mute(meetingId: string, participantId: string, muted: boolean): LiveActionResult {
    this.calls.push({ op: 'mute', meetingId, args: [participantId, muted] });
    return this.#withParticipant(meetingId, participantId, (m, i) => {
      const p = m.participants[i];
      if (p !== undefined) m.participants[i] = { ...p, muted };
    });
  }

  muteAllOthers(meetingId: string, exceptParticipantId: string | undefined): LiveActionResult {
    this.calls.push({ op: 'muteAllOthers', meetingId, args: [exceptParticipantId] });
    const m = this.#meetings.get(meetingId);
    if (m === undefined) return 'no-such-meeting';
    if (exceptParticipantId !== undefined && !m.participants.some((p) => p.participantId === exceptParticipantId)) return 'no-such-participant';
    m.participants = m.participants.map((p) => (p.participantId === exceptParticipantId ? p : { ...p, muted: true }));
    return 'ok';
  }

  remove(meetingId: string, participantId: string): LiveActionResult {
    this.calls.push({ op: 'remove', meetingId, args: [participantId] });
    return this.#withParticipant(meetingId, participantId, (m, i) => m.participants.splice(i, 1));
  }

  lock(meetingId: string, locked: boolean): LiveActionResult {
    this.calls.push({ op: 'lock', meetingId, args: [locked] });
    const m = this.#meetings.get(meetingId);
    if (m === undefined) return 'no-such-meeting';
    m.locked = locked;
    return 'ok';
  }

  stopPresenting(meetingId: string): LiveActionResult {
    this.calls.push({ op: 'stop-presenting', meetingId, args: [] });
    return this.#meetings.has(meetingId) ? 'ok' : 'no-such-meeting';
  }

  end(meetingId: string, reason: 'ended-by-api' | 'deleted'): LiveActionResult {
    this.calls.push({ op: 'end', meetingId, args: [reason] });
    return this.#meetings.delete(meetingId) ? 'ok' : 'no-such-meeting';
  }

  dialOut(meetingId: string, toNumber: string, fromNumber: string | undefined): DialOutResult {
    this.calls.push({ op: 'dialOut', meetingId, args: [toNumber, fromNumber] });
    if (this.dialOutAnswer !== undefined) return this.dialOutAnswer(meetingId, toNumber, fromNumber);
    this.#transactions++;
    return { ok: true, transactionId: `00000000-0000-4000-8000-${String(this.#transactions).padStart(12, '0')}` };
  }

  #withParticipant(meetingId: string, participantId: string, f: (m: MutableMeeting, index: number) => void): LiveActionResult {
    const m = this.#meetings.get(meetingId);
    if (m === undefined) return 'no-such-meeting';
    const i = m.participants.findIndex((p) => p.participantId === participantId);
    if (i < 0) return 'no-such-participant';
    f(m, i);
    return 'ok';
  }
}
