import type { Timers } from '../../../common/clock.ts';
import type { Random } from '../../../common/random.ts';
import { getFirstListValue, getHeader, prependHeader } from '../message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';
import { BRANCH_MAGIC_COOKIE, parseVia, viaBranch } from '../message/via.ts';
import type { Destination, SipSender, Source, TransportName } from '../transport/types.ts';
import { InviteClientTransaction, requestOnInvite } from './invite-client-transaction.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { responseDestination } from './response-destination.ts';
import type { TransactionEnv } from './transaction-base.ts';
import { DEFAULT_TIMER_CONFIG } from './types.ts';
import type { ClientTransaction, ClientTransactionUser, TransactionCounts, TransactionTimerConfig, TransactionUser } from './types.ts';

export interface TransactionLayerOptions {
  readonly sender: SipSender;
  readonly user: TransactionUser;
  readonly timers: Timers;
  readonly random: Random;
  readonly config?: Partial<TransactionTimerConfig>;
}

type ServerTx = InviteServerTransaction | NonInviteServerTransaction;
type ClientTx = InviteClientTransaction | NonInviteClientTransaction;

/**
 * Adds Carillon's own topmost Via with a fresh RFC 3261 branch (and an empty rport, RFC 3581)
 * to an outgoing request; returns the branch.
 */
export function stampVia(req: SipRequest, transport: TransportName, sender: SipSender, random: Random): string {
  const branch = `${BRANCH_MAGIC_COOKIE}${random.token(16)}`;
  const local = sender.local(transport);
  const sentBy = local === undefined ? '127.0.0.1' : `${local.address}:${local.port}`;
  prependHeader(req, 'via', `SIP/2.0/${transport.toUpperCase()} ${sentBy};branch=${branch};rport`);
  return branch;
}

/**
 * Server-transaction key (RFC 3261 §17.2.3): branch + sent-by + method, ACK matching INVITE.
 * Requests from RFC 2543 elements (no magic cookie) key on Call-ID, From tag, CSeq number,
 * and top Via instead.
 */
function serverKey(req: SipRequest, method: string): string | undefined {
  const top = getFirstListValue(req, 'via');
  if (top === undefined) return undefined;
  const via = parseVia(top);
  if (via === undefined) return undefined;
  const branch = viaBranch(via);
  const m = method === 'ACK' ? 'INVITE' : method;
  if (branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE)) {
    return `${branch}\u0000${via.host}:${via.port ?? ''}\u0000${m}`;
  }
  const cseq = (getHeader(req, 'cseq') ?? '').trim().split(/\s+/)[0] ?? '';
  const from = getHeader(req, 'from') ?? '';
  const tag = /;\s*tag=([^;\s]+)/i.exec(from.slice(Math.max(0, from.lastIndexOf('>'))))?.[1] ?? '';
  return `2543\u0000${getHeader(req, 'call-id') ?? ''}\u0000${tag}\u0000${cseq}\u0000${top}\u0000${m}`;
}

/**
 * The transaction layer (RFC 3261 §17): matches messages to transactions, creates them,
 * runs their timers, and tells the transaction user what passes through.
 */
export class TransactionLayer {
  readonly #sender: SipSender;
  readonly #user: TransactionUser;
  readonly #random: Random;
  readonly #env: TransactionEnv;
  readonly #server = new Map<string, ServerTx>();
  readonly #client = new Map<string, ClientTx>();
  readonly #serverKeys = new WeakMap<ServerTx, string>();
  #closed = false;

  readonly #serverHooks = {
    onTerminated: (tx: ServerTx): void => {
      const k = this.#serverKeys.get(tx);
      if (k !== undefined && this.#server.get(k) === tx) this.#server.delete(k);
    },
  };

  readonly #clientHooks = {
    onTerminated: (tx: ClientTx): void => {
      const k = clientKey(tx.branch, tx.request.method);
      if (this.#client.get(k) === tx) this.#client.delete(k);
    },
  };

  constructor(opts: TransactionLayerOptions) {
    this.#sender = opts.sender;
    this.#user = opts.user;

    this.#random = opts.random;
    this.#env = { sender: opts.sender, timers: opts.timers, cfg: { ...DEFAULT_TIMER_CONFIG, ...opts.config } };
  }

  receiveRequest(req: SipRequest, source: Source): void {
    if (this.#closed) return;
    const method = req.method;
    const key = serverKey(req, method);
    if (key === undefined) return;
    const existing = this.#server.get(method === 'CANCEL' ? `${key}\u0000C` : key);
    if (method === 'ACK') {
      if (existing !== undefined && existing.kind === 'ist') existing.receive(req);
      else this.#user.onAck(req, source);
      return;
    }
    if (existing !== undefined) {
      existing.receive(req);
      return;
    }
    const top = parseVia(getFirstListValue(req, 'via') ?? '');
    if (top === undefined) return;
    const dest = responseDestination(top, source);
    if (method === 'INVITE') {
      const tx = new InviteServerTransaction(req, source, dest, this.#env, this.#user, this.#serverHooks);
      this.#serverKeys.set(tx, key);
      this.#server.set(key, tx);
      // §17.2.1: answer 100 at once so the client stops retransmitting.
      tx.respond(trying(req));
      this.#user.onRequest(tx);
      return;
    }
    const tx = new NonInviteServerTransaction(req, source, dest, this.#env, this.#serverHooks);
    const storeKey = method === 'CANCEL' ? `${key}\u0000C` : key;
    this.#serverKeys.set(tx, storeKey);
    this.#server.set(storeKey, tx);
    if (method === 'CANCEL') {
      // §9.2: the CANCEL matches the INVITE with the same branch/sent-by.
      const invite = this.#server.get(`${key.slice(0, key.length - 'CANCEL'.length)}INVITE`);
      if (invite === undefined || invite.kind !== 'ist') {
        tx.respond(simpleResponse(req, 481, 'Call/Transaction Does Not Exist', undefined));
        return;
      }
      tx.respond(simpleResponse(req, 200, 'OK', invite.lastTo));
      if (!invite.finalSent) this.#user.onCancel(invite, req);
      return;
    }
    this.#user.onRequest(tx);
  }

  receiveResponse(res: SipResponse, source: Source): void {
    if (this.#closed) return;
    const top = getFirstListValue(res, 'via');
    const via = top === undefined ? undefined : parseVia(top);
    const branch = via === undefined ? undefined : viaBranch(via);
    const method = (getHeader(res, 'cseq') ?? '').trim().split(/\s+/)[1];
    if (branch === undefined || method === undefined) {
      this.#user.onStrayResponse(res, source);
      return;
    }
    const tx = this.#client.get(clientKey(branch, method));
    if (tx === undefined) {
      this.#user.onStrayResponse(res, source);
      return;
    }
    tx.receive(res);
  }

  /** Starts a client transaction for `req` (not ACK), adding Carillon's Via. */
  sendRequest(req: SipRequest, dest: Destination, user: ClientTransactionUser): ClientTransaction {
    const branch = stampVia(req, dest.transport, this.#sender, this.#random);
    return this.#startClient(req, dest, branch, user);
  }

  #startClient(req: SipRequest, dest: Destination, branch: string, user: ClientTransactionUser): ClientTx {
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(req, dest, branch, this.#env, user, this.#clientHooks)
        : new NonInviteClientTransaction(req, dest, branch, this.#env, user, this.#clientHooks);
    this.#client.set(clientKey(branch, req.method), tx);
    if (this.#closed) {
      tx.terminate();
      return tx;
    }
    tx.start();
    return tx;
  }

  /**
   * Cancels an INVITE client transaction (RFC 3261 §9.1): the CANCEL copies the INVITE's
   * Request-URI, Call-ID, From, To, CSeq number, Route set and top Via, and is sent only once a
   * provisional response has arrived; a no-op once the INVITE has a final response.
   */
  cancel(ct: ClientTransaction, extraHeaders: readonly SipHeader[] = []): void {
    const ict = ct as ClientTx;
    if (ict.kind !== 'ict') return;
    const send = (): void => {
      if (ict.state !== 'proceeding') return;
      const cancel = requestOnInvite(ict.request, 'CANCEL', undefined, extraHeaders);
      this.#startClient(cancel, ict.destination, ict.branch, NOOP_USER);
    };
    if (ict.state === 'proceeding') send();
    else if (ict.state === 'calling') ict.pendingCancel = send;
  }

  counts(): TransactionCounts {
    return { client: this.#client.size, server: this.#server.size };
  }

  /** Terminates every transaction and stops every timer. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const tx of [...this.#client.values()]) tx.terminate();
    for (const tx of [...this.#server.values()]) tx.terminate();
    this.#client.clear();
    this.#server.clear();
  }
}

const NOOP_USER: ClientTransactionUser = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

function clientKey(branch: string, method: string): string {
  return `${branch}\u0000${method === 'ACK' ? 'INVITE' : method}`;
}

function trying(req: SipRequest): SipResponse {
  return simpleResponse(req, 100, 'Trying', undefined);
}

/** A response copying Via/From/To/Call-ID/CSeq (§8.2.6.2); `to` overrides the To value. */
function simpleResponse(req: SipRequest, status: number, reason: string, to: string | undefined): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of req.headers) {
    if (h.name === 'via' || h.name === 'from' || h.name === 'call-id' || h.name === 'cseq') headers.push({ name: h.name, value: h.value });
    else if (h.name === 'to') headers.push({ name: 'to', value: to ?? h.value });
  }
  return { kind: 'response', status, reason, headers, body: Buffer.alloc(0) };
}

