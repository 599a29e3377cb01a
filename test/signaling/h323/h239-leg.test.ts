import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PresentationPort } from '../../../common/call-leg.ts';
import { nodeTimers } from '../../../common/clock.ts';
import type { IncomingCall } from '../../../common/incoming-call.ts';
import { socketsWithLookup } from '../../../common/sockets.ts';
import { H323Edge } from '../../../signaling/h323/h323-edge.ts';
import { H323TestEndpoint } from '../../support/h323-endpoint/index.ts';
import { flowControlReleaseRequest, H239_PARAM, H239_SUB } from '../../support/h323-endpoint/build.ts';
import { until } from '../../support/rtp-peer.ts';

/**
 * H.239 presentation token on the H.323 leg, in process: Carillon's edge on loopback, the test
 * endpoint (its own H.245 encoders) tunnelling H.239 after a slow-start call is up. The meeting's
 * side is the leg's PresentationPort.
 */

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

interface Call {
  readonly edge: H323Edge;
  readonly ep: H323TestEndpoint;
  readonly port: PresentationPort;
  readonly ended: string[];
}

const open: Call[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) {
    await c.ep.close();
    c.edge.close();
  }
});

async function connectedCall(): Promise<Call> {
  const edge = new H323Edge(
    { bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1', port: 0, domain: 'carillon.local' },
    { sockets: socketsWithLookup(() => undefined as never), timers: nodeTimers, logger: pino({ level: 'silent' }), draw: () => 0.5 },
  );
  let port: PresentationPort | undefined;
  const ended: string[] = [];
  edge.onCall = (i: IncomingCall) => {
    i.leg.events = { ...i.leg.events, confirmed: () => undefined, request: () => undefined, ended: (r) => ended.push(r) };
    port = i.leg.presentation;
    queueMicrotask(() => i.leg.answer(200, undefined, { contentType: 'application/sdp', bytes: Buffer.from(OFFER) }, []));
  };
  const tcp = await edge.start();
  const ep = new H323TestEndpoint({ name: 'Room 239', localAddress: '127.0.0.1' });
  await ep.call({ host: '127.0.0.1', port: tcp, destination: [{ dialedDigits: '1234567890' }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel', h239: true });
  await ep.waitFor((m) => 'q931' in m && m.q931 === 'connect');
  await until(() => ep.msdRole !== undefined && ep.ownChannel !== undefined);
  if (port === undefined) throw new Error('the H.323 leg has no presentation port');
  const call = { edge, ep, port, ended };
  open.push(call);
  return call;
}

describe('H.239 presentation token on the H.323 leg', () => {
  it('request → onRequest → grant(true) → acknowledge echoing the labels; release → onRelease; a denied request → reject', async () => {
    const { ep, port } = await connectedCall();
    const grants: ((g: boolean) => void)[] = [];
    let releases = 0;
    port.onRequest = (grant) => grants.push(grant);
    port.onRelease = () => releases++;

    ep.requestPresentationToken(77);
    await until(() => grants.length === 1);
    expect(port.holding).toBe(false);
    grants[0]?.(true);
    const ack = await ep.waitForH239(H239_SUB.presentationTokenResponse);
    expect(ack.envelope).toBe('genericResponse');
    expect(ack.params.get(H239_PARAM.acknowledge)).toBe(true);
    expect(ack.params.has(H239_PARAM.reject)).toBe(false);
    expect(ack.params.get(H239_PARAM.terminalLabel)).toBe(0x0101);
    expect(ack.params.get(H239_PARAM.channelId)).toBe(3);
    expect(port.holding).toBe(true);
    expect(ep.presentationToken).toBe('held');
    // A late second grant of the same request does nothing.
    grants[0]?.(false);

    ep.releasePresentationToken();
    await until(() => releases === 1);
    expect(port.holding).toBe(false);

    ep.requestPresentationToken();
    await until(() => grants.length === 2);
    grants[1]?.(false);
    const rej = await ep.waitForH239(H239_SUB.presentationTokenResponse, 2);
    expect(rej.params.get(H239_PARAM.reject)).toBe(true);
    expect(rej.params.has(H239_PARAM.acknowledge)).toBe(false);
    expect(port.holding).toBe(false);
    expect(ep.presentationToken).toBe('none');
    expect(releases).toBe(1);
  });

  it('revoke(): the holder gets the token manager’s presentationTokenRequest, answers it, and holds nothing; hang-up while holding → onRelease', async () => {
    const { ep, port } = await connectedCall();
    let releases = 0;
    port.onRequest = (grant) => grant(true);
    port.onRelease = () => releases++;
    ep.requestPresentationToken();
    await ep.waitForH239(H239_SUB.presentationTokenResponse);
    expect(port.holding).toBe(true);

    port.revoke();
    expect(port.holding).toBe(false);
    const req = await ep.waitForH239(H239_SUB.presentationTokenRequest);
    expect(req.envelope).toBe('genericRequest');
    expect(req.params.get(H239_PARAM.channelId)).toBe(3);
    expect(req.params.has(H239_PARAM.terminalLabel)).toBe(true);
    expect(req.params.has(H239_PARAM.symmetryBreaking)).toBe(true);
    expect(ep.presentationToken).toBe('none');
    // The endpoint's acknowledge reaches Carillon and changes nothing; revoke is not a release by the peer.
    await new Promise((r) => setTimeout(r, 50));
    expect(releases).toBe(0);
    port.revoke();
    expect(ep.h239.filter((h) => h.sub === H239_SUB.presentationTokenRequest)).toHaveLength(1);

    ep.requestPresentationToken();
    await ep.waitForH239(H239_SUB.presentationTokenResponse, 2);
    expect(port.holding).toBe(true);
    await ep.hangup();
    await until(() => releases === 1);
    expect(port.holding).toBe(false);
  });

  it('a flood of token requests: each answered, one pending at a time; with nobody listening every request is refused', async () => {
    const { ep, port } = await connectedCall();
    const grants: ((g: boolean) => void)[] = [];
    port.onRequest = (grant) => grants.push(grant);
    for (let i = 0; i < 50; i++) ep.requestPresentationToken(1 + (i % 127));
    await ep.waitForH239(H239_SUB.presentationTokenResponse, 49);
    expect(grants).toHaveLength(1);
    expect(ep.h239.filter((h) => h.params.get(H239_PARAM.reject) === true)).toHaveLength(49);
    grants[0]?.(true);
    const last = await ep.waitForH239(H239_SUB.presentationTokenResponse, 50);
    expect(last.params.get(H239_PARAM.acknowledge)).toBe(true);
    expect(port.holding).toBe(true);
    // Asking again while holding: acknowledged at once, the meeting is not asked again.
    ep.requestPresentationToken();
    const again = await ep.waitForH239(H239_SUB.presentationTokenResponse, 51);
    expect(again.params.get(H239_PARAM.acknowledge)).toBe(true);
    expect(grants).toHaveLength(1);

    port.onRequest = undefined;
    ep.releasePresentationToken();
    await until(() => !port.holding);
    ep.requestPresentationToken();
    const none = await ep.waitForH239(H239_SUB.presentationTokenResponse, 52);
    expect(none.params.get(H239_PARAM.reject)).toBe(true);
  });

  it('flowControlReleaseRequest is answered with a reject on its channel (no video channels on H.323 legs)', async () => {
    const { ep } = await connectedCall();
    ep.sendH245([flowControlReleaseRequest(5, 10_000)]);
    const r = await ep.waitForH239(H239_SUB.flowControlReleaseResponse);
    expect(r.params.get(H239_PARAM.reject)).toBe(true);
    expect(r.params.get(H239_PARAM.channelId)).toBe(5);
  });
});
