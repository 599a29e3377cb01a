import type { SipHeader, SipRequest } from '../message/types.ts';
import type { Destination, TransportName } from '../transport/types.ts';
import { EMPTY_BODY } from '../ua/responses.ts';
import { destinationForUri } from './target.ts';

export type DialogState = 'early' | 'confirmed' | 'terminated';

/** Legal dialog transitions (RFC 3261 §12): early → confirmed → terminated, or early → terminated. */
export const DIALOG_TRANSITIONS = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
} as const satisfies Record<DialogState, readonly DialogState[]>;

/** The network path a dialog's requests take when there is no route set. */
export interface DialogFlow {
  readonly transport: TransportName;
  /**
   * For a dialog the peer created (Carillon is UAS): the source its INVITE came from, which is
   * where requests go back (symmetric signaling, RFC 3581 spirit; PBXs behind NAT need it).
   */
  readonly address?: string;
  readonly port?: number;
  readonly connectionId?: number;
}

export interface DialogInit {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag?: string;
  /** From/To value for our side, without tag (name-addr text). */
  readonly localUri: string;
  readonly remoteUri: string;
  readonly localSeq: number;
  readonly remoteSeq?: number;
  /** Remote target URI (the peer's Contact). */
  readonly remoteTarget: string;
  /** Route header values in the order requests carry them. */
  readonly routeSet: readonly string[];
  readonly flow: DialogFlow;
  readonly state: DialogState;
}

/**
 * One SIP dialog (RFC 3261 §12): the identifiers and sequence numbers that in-dialog requests
 * carry, and where they go. Owned by a call leg.
 */
export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string | undefined;
  readonly localUri: string;
  readonly remoteUri: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: readonly string[];
  flow: DialogFlow;
  #state: DialogState;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.flow = init.flow;
    this.#state = init.state;
  }

  get state(): DialogState {
    return this.#state;
  }

  transition(to: DialogState): void {
    if (this.#state === to) return;
    const legal: readonly DialogState[] = DIALOG_TRANSITIONS[this.#state];
    if (!legal.includes(to)) throw new Error(`dialog ${this.#state} → ${to} is not a legal transition`);
    this.#state = to;
  }

  /**
   * RFC 3261 §12.2.2: a request whose CSeq is lower than the remote sequence number is out of
   * order (500). Records the new number otherwise.
   */
  acceptRemoteSeq(seq: number): boolean {
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) {
      return false;
    }
    this.remoteSeq = seq;
    return true;
  }

  /**
   * Builds an in-dialog request (RFC 3261 §12.2.1.1) without Via (the transaction layer adds
   * it). Loose routing only; a strict-routing first hop is TODO(rfc3261 §12.2.1.1).
   */
  createRequest(method: string, contact: string, extra: readonly SipHeader[] = [], body: Buffer = EMPTY_BODY, seq?: number): SipRequest {
    let cseq: number;
    if (seq !== undefined) cseq = seq;
    else if (method === 'ACK' || method === 'CANCEL') cseq = this.localSeq;
    else cseq = ++this.localSeq;
    const headers: SipHeader[] = [];
    for (const r of this.routeSet) headers.push({ name: 'route', value: r });
    headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `${this.localUri};tag=${this.localTag}` },
      { name: 'to', value: this.remoteTag === undefined ? this.remoteUri : `${this.remoteUri};tag=${this.remoteTag}` },
      { name: 'call-id', value: this.callId },
      { name: 'cseq', value: `${cseq} ${method}` },
    );
    if (method !== 'ACK' && method !== 'CANCEL' && method !== 'BYE') headers.push({ name: 'contact', value: contact });
    for (const h of extra) headers.push(h);
    return { kind: 'request', method, uri: this.remoteTarget, headers, body };
  }

  /**
   * Where in-dialog requests go: the first Route when there is a route set, else the flow the
   * peer's request came on (when Carillon is UAS), else the remote target.
   */
  destination(): Destination | undefined {
    const first = this.routeSet[0];
    if (first !== undefined) {
      const uri = first.startsWith('<') ? first.slice(1, first.indexOf('>')) : first;
      return destinationForUri(uri, this.flow.transport);
    }
    const f = this.flow;
    if (f.address !== undefined && f.port !== undefined) {
      return f.connectionId === undefined
        ? { transport: f.transport, address: f.address, port: f.port }
        : { transport: f.transport, address: f.address, port: f.port, connectionId: f.connectionId };
    }
    return destinationForUri(this.remoteTarget, this.flow.transport);
  }

  /** Key of this dialog in the dialog table (Call-ID + local tag; local tags are random). */
  get key(): string {
    return dialogKey(this.callId, this.localTag);
  }
}

export function dialogKey(callId: string, localTag: string): string {
  return `${callId}\u0000${localTag}`;
}
