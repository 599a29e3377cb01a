import { Dialog } from '../sip/dialog/dialog.ts';
import type { ServerTransaction } from '../sip/transaction/types.ts';
import { parseMinSe, parseSessionExpires } from '../sip/dialog/session-timer.ts';
import { getHeader, getHeaderValues } from '../sip/message/headers.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message/types.ts';
import { createResponse } from '../sip/ua/responses.ts';
import type { Call, Leg } from './call.ts';
import { ALLOW_VALUE, copyCrossingHeaders } from '../sip/ua/header-policy.ts';
import { contactUri, hasToken, stripTag } from './sip-util.ts';

/** The caller's leg from its INVITE: an early dialog (our tag, its flow), what it supports, its session timer. */
export function setUpCallerLeg(
  a: Leg,
  tx: ServerTransaction,
  ids: { readonly callId: string; readonly localTag: string; readonly remoteTag: string | undefined; readonly remoteSeq: number; readonly remoteTarget: string },
  sessionExpiresSec: number,
  minSeSec: number,
): Dialog {
  const req = tx.request;
  const src = tx.source;
  const dialog = new Dialog({
    callId: ids.callId,
    localTag: ids.localTag,
    ...(ids.remoteTag === undefined ? {} : { remoteTag: ids.remoteTag }),
    localUri: stripTag(getHeader(req, 'to') ?? ''),
    remoteUri: stripTag(getHeader(req, 'from') ?? ''),
    localSeq: 0,
    remoteSeq: ids.remoteSeq,
    remoteTarget: ids.remoteTarget,
    routeSet: getHeaderValues(req, 'record-route'),
    flow: src.connectionId === undefined ? { transport: src.transport, address: src.address, port: src.port } : { transport: src.transport, address: src.address, port: src.port, connectionId: src.connectionId },
    state: 'early',
  });
  a.dialog = dialog;
  a.inviteServer = tx;
  a.supports100rel = hasToken(req, 'supported', '100rel') || hasToken(req, 'require', '100rel');
  a.requires100rel = hasToken(req, 'require', '100rel');
  a.supportsTimer = hasToken(req, 'supported', 'timer') || hasToken(req, 'require', 'timer');
  a.allowsUpdate = hasToken(req, 'allow', 'update');
  decideCallerSessionTimer(a, req, sessionExpiresSec, minSeSec);
  return dialog;
}

/** RFC 4028 §9 as UAS: the interval and refresher for the caller's leg. */
export function decideCallerSessionTimer(a: Leg, req: SipRequest, sessionExpiresSec: number, minSeSec: number): void {
  const se = parseSessionExpires(getHeader(req, 'session-expires'));
  const theirMin = parseMinSe(getHeader(req, 'min-se')) ?? 0;
  const floor = Math.max(minSeSec, theirMin);
  let interval = se === undefined ? sessionExpiresSec : Math.min(se.intervalSec, sessionExpiresSec);
  if (interval < floor) interval = floor;
  a.sessionIntervalSec = interval;
  const refresher = se?.refresher ?? (a.supportsTimer ? 'uac' : 'uas');
  a.localRefresher = refresher === 'uas';
}

/** The callee leg's dialog learns its remote tag, target and route set from a tagged response. */
export function learnCalleeDialog(d: Dialog, res: SipResponse, tag: string, confirmed: boolean): void {
  if (d.state === 'confirmed') return;
  d.remoteTag = tag;
  const target = contactUri(res);
  if (target !== undefined) d.remoteTarget = target;
  const rr = getHeaderValues(res, 'record-route');
  if (rr.length > 0 || confirmed) d.routeSet = rr.reverse();
  if (confirmed) d.transition('confirmed');
}

/** Relays a callee provisional (18x) to the caller, reliably when the caller asked (RFC 3262). */
export function relayProvisionalToCaller(call: Call, res: SipResponse, body: Buffer): void {
  const a = call.a;
  const st = a.inviteServer;
  const d = a.dialog;
  if (st === undefined || st.finalSent || d === undefined) return;
  const headers: SipHeader[] = [{ name: 'contact', value: a.contact }, { name: 'allow', value: ALLOW_VALUE }];
  copyCrossingHeaders(res, headers);
  const reliable = a.supports100rel && !a.prackWait.active && (a.requires100rel || hasToken(res, 'require', '100rel') || body.length > 0);
  if (reliable) {
    a.rseq += 1;
    headers.push({ name: 'require', value: '100rel' }, { name: 'rseq', value: String(a.rseq) });
  }
  const out = createResponse(st.request, res.status, { toTag: d.localTag, reason: res.reason, headers, body, copyRecordRoute: true });
  if (body.length > 0) {
    a.lastSdp = body;
    a.lastContentType = getHeader(res, 'content-type');
  }
  st.respond(out);
  if (!reliable) return;
  a.prackWaitRseq = a.rseq;
  a.prackWaitHasSdp = body.length > 0;
  a.prackWait.start(
    a.transport !== 'udp',
    () => {
      if (!st.finalSent) st.respond(out);
    },
    () => {
      // No PRACK came: stop waiting, and let a 2xx held back for it go.
      a.prackWaitRseq = undefined;
      runAfterPrack(a);
    },
  );
}

/** Runs what waited for the caller's PRACK (a held-back 2xx), once. */
export function runAfterPrack(leg: Leg): void {
  const next = leg.afterPrack;
  leg.afterPrack = undefined;
  next?.();
}
