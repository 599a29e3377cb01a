/**
 * The H.239 presentation token of one H.323 call, with Carillon as the token manager (the MCU of
 * the meeting; the meeting decides who presents, through the protocol-neutral PresentationPort of
 * common/call-leg.ts). H.239 §8.5 and §11:
 *
 *     peer                          Carillon (token manager)          meeting
 *     presentationTokenRequest ──▶  pending ───────────── onRequest(grant) ──▶
 *                              ◀──  presentationTokenResponse ◀── grant(true | false)
 *                                   (acknowledge | reject, the request's terminalLabel and channelId)
 *     presentationTokenRelease ──▶  idle ──────────────── onRelease() ──▶
 *                              ◀──  presentationTokenRequest ◀────── revoke()
 *     presentationTokenResponse ─▶  (the holder gives the token up: nothing more to do)
 *
 * One request is pending at a time: another while one waits is refused at once, a holder asking
 * again is acknowledged again, so a flood of requests gets answers and keeps no state. Pure of I/O:
 * it says what to send through `send`.
 */
import type { PresentationPort } from '../../../common/call-leg.ts';
import type { MultimediaSystemControlMessage } from '../asn/h245.ts';
import type { H239Message } from './h239.ts';
import { h239Message } from './h239.ts';

/**
 * Carillon's own terminalLabel in the requests it sends as token manager: mcuNumber 0,
 * terminalNumber 0 (H.245 TerminalLabel as H.239 carries it, mcuNumber × 256 + terminalNumber).
 */
export const CARILLON_TERMINAL_LABEL = 0;

/**
 * The symmetryBreaking of the token manager's own request. symmetryBreaking settles two terminals
 * asking at once (the higher wins); the token manager does not compete for the token, so it sends
 * the lowest value.
 */
const MANAGER_SYMMETRY_BREAKING = 0;

export type TokenState = 'idle' | 'pending' | 'held' | 'closed';

const TRANSITIONS = {
  idle: ['pending', 'closed'],
  pending: ['held', 'idle', 'closed'],
  held: ['idle', 'closed'],
  closed: [],
} as const satisfies Record<TokenState, readonly TokenState[]>;

/** Counters of what the peer did with the token (read at scrape time). */
export interface TokenCounters {
  requests: number;
  granted: number;
  refused: number;
  released: number;
  revoked: number;
}

export class H239TokenManager implements PresentationPort {
  onRequest: ((grant: (granted: boolean) => void) => void) | undefined;
  onRelease: (() => void) | undefined;
  readonly counters: TokenCounters = { requests: 0, granted: 0, refused: 0, released: 0, revoked: 0 };
  readonly #send: (msgs: readonly MultimediaSystemControlMessage[]) => void;
  #state: TokenState = 'idle';
  /** The request pending or granted: its terminalLabel and channelId (the response and a revoke quote them). */
  #labels: { readonly terminalLabel: number; readonly channelId: number } | undefined;
  /** Bumped at each new pending request, so a grant of an overtaken one does nothing. */
  #round = 0;

  constructor(send: (msgs: readonly MultimediaSystemControlMessage[]) => void) {
    this.#send = send;
  }

  get holding(): boolean {
    return this.#state === 'held';
  }

  get state(): TokenState {
    return this.#state;
  }

  #transition(to: TokenState): boolean {
    const legal: readonly TokenState[] = TRANSITIONS[this.#state];
    if (!legal.includes(to)) return false;
    this.#state = to;
    if (to === 'idle' || to === 'closed') this.#labels = undefined;
    return true;
  }

  #respond(acknowledge: boolean, labels: { readonly terminalLabel: number; readonly channelId: number }): void {
    if (acknowledge) this.counters.granted++;
    else this.counters.refused++;
    this.#send([h239Message({ kind: 'presentationTokenResponse', acknowledge, terminalLabel: labels.terminalLabel, channelId: labels.channelId })]);
  }

  /** One H.239 message from the peer. */
  handle(m: H239Message): void {
    if (this.#state === 'closed') return;
    switch (m.kind) {
      case 'presentationTokenRequest':
        return this.#request({ terminalLabel: m.terminalLabel, channelId: m.channelId });
      case 'presentationTokenRelease':
        return this.#peerReleased();
      case 'presentationTokenResponse':
        // The holder's answer to a revoke: "acknowledge" gives the token up; a reject changes nothing,
        // the token manager has already given the token to another participant.
        return;
      case 'presentationTokenIndicateOwner':
        // A terminal's own announcement; the token manager's view of who holds the token stands.
        return;
      case 'flowControlReleaseRequest':
        // Carillon opens no video channels on H.323 legs (audio-only participants): nothing to raise.
        this.#send([h239Message({ kind: 'flowControlReleaseResponse', acknowledge: false, channelId: m.channelId })]);
        return;
      case 'flowControlReleaseResponse':
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  #request(labels: { readonly terminalLabel: number; readonly channelId: number }): void {
    this.counters.requests++;
    switch (this.#state) {
      case 'held':
        // It holds the token already: acknowledge again, on the labels it now quotes.
        this.#labels = labels;
        return this.#respond(true, labels);
      case 'pending':
        // One pending request at a time: this one is refused now, the first still waits for the meeting.
        return this.#respond(false, labels);
      case 'idle': {
        const ask = this.onRequest;
        if (ask === undefined) return this.#respond(false, labels);
        this.#transition('pending');
        this.#labels = labels;
        const round = ++this.#round;
        ask((granted) => this.#granted(round, granted));
        return;
      }
      case 'closed':
        return;
      default: {
        const never: never = this.#state;
        return never;
      }
    }
  }

  #granted(round: number, granted: boolean): void {
    const labels = this.#labels;
    if (round !== this.#round || this.#state !== 'pending' || labels === undefined) return;
    this.#transition(granted ? 'held' : 'idle');
    this.#respond(granted, labels);
  }

  #peerReleased(): void {
    if (this.#state !== 'held' && this.#state !== 'pending') return;
    this.counters.released++;
    this.#transition('idle');
    this.onRelease?.();
  }

  revoke(): void {
    const labels = this.#labels;
    if (labels === undefined) return;
    if (this.#state === 'pending') {
      // The meeting gave the floor to someone else before answering: the waiting request is refused.
      this.#transition('idle');
      return this.#respond(false, labels);
    }
    if (this.#state !== 'held') return;
    this.counters.revoked++;
    this.#transition('idle');
    // H.239 §11 (token manager): the token is taken back by asking its holder for it; the holder
    // answers presentationTokenResponse and stops sending its presentation.
    this.#send([h239Message({ kind: 'presentationTokenRequest', terminalLabel: CARILLON_TERMINAL_LABEL, channelId: labels.channelId, symmetryBreaking: MANAGER_SYMMETRY_BREAKING })]);
  }

  /** The call's H.245 ended: nothing is sent after this; a holder (or asker) is released for the meeting. Idempotent. */
  end(): void {
    const had = this.#state === 'held' || this.#state === 'pending';
    if (!this.#transition('closed')) return;
    if (had) this.onRelease?.();
  }
}
