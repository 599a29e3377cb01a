import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTimers, systemClock } from '../../../common/clock.ts';
import { MediaEngine } from '../../../media/engine.ts';
import { QualityLog } from '../../../media/quality/quality-log.ts';
import { countryOf, MediaAnchoring } from '../../../signaling/calls/call-media.ts';
import type { CallMedia } from '../../../signaling/calls/call-media.ts';
import { readSdp } from '../../../signaling/sdp/anchor.ts';
import { newMasterKey, parseCryptoAttribute, SrtpContext } from '../../../media/srtp/srtp.ts';
import { RtpPeer, until } from '../../support/rtp-peer.ts';

const CTX = { voiceConnectorId: 'default', callId: 'c', fromUser: 'a', fromCountry: null, toUser: 'b', toCountry: null, endpointId: 'e', region: 'local', custSide: 'a' as const };
const HANDLERS = { onTimeout: () => undefined, onDtmf: () => undefined };

function sdp(port: number, extra: string[] = [], payloads = '0 8 101'): Buffer {
  return Buffer.from(
    ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${payloads}`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', ...extra, ''].join('\r\n'),
  );
}

function portOf(body: Buffer): number {
  return readSdp(body.toString())?.media[0]?.port ?? -1;
}

describe('CallMedia: SDP anchoring against the real media engine', () => {
  let engine: MediaEngine;
  let anchoring: MediaAnchoring;
  let dir: string;
  const low = 47000 + 2 * Math.floor(Math.random() * 400);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-callmedia-'));
    engine = await MediaEngine.start(
      { workers: 1, bindAddress: '127.0.0.1', low, high: low + 7, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 5000, cname: 't', releaseDelayMs: 0, nativeRelay: true },
      pino({ level: 'silent' }),
    );
    anchoring = new MediaAnchoring({ control: engine, address: '127.0.0.1', clock: systemClock, timers: nodeTimers, logger: pino({ level: 'silent' }), qualityLog: new QualityLog(dir), qualityIntervalMs: 60_000, region: 'local' });
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function translate(m: CallMedia, from: 'a' | 'b', body: Buffer, role: 'offer' | 'answer'): Promise<Buffer> {
    const r = await m.translate(from, body, 'application/sdp', role);
    if (!r.ok) throw new Error(`${r.status} ${r.reason}`);
    return r.body;
  }

  it('rewrites offers and answers to its ports, and a re-INVITE moves the forwarding to the new port', async () => {
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    const B2 = await RtpPeer.open();
    const m = anchoring.open('s1', CTX, HANDLERS);
    try {
      const toCallee = await translate(m, 'a', sdp(A.rtpPort), 'offer');
      const toCaller = await translate(m, 'b', sdp(B.rtpPort, [], '0 101'), 'answer');
      const text = toCallee.toString();
      expect(text).toMatch(/c=IN IP4 127\.0\.0\.1/);
      expect(text).toMatch(new RegExp(`a=rtcp:${portOf(toCallee) + 1}`));
      expect(portOf(toCallee)).not.toBe(A.rtpPort);
      expect(portOf(toCaller)).not.toBe(portOf(toCallee));
      A.sendTo('127.0.0.1', portOf(toCaller));
      B.sendTo('127.0.0.1', portOf(toCallee));
      await A.sendStream({ packets: 5, ptimeMs: 5, ssrc: 1 });
      await B.sendStream({ packets: 5, ptimeMs: 5, ssrc: 2 });
      await until(() => B.received.length === 5 && A.received.length === 5);
      // The callee re-INVITEs from another port (a transfer, a new media server): audio follows
      // at once, although B had been latched.
      const reoffer = await translate(m, 'b', sdp(B2.rtpPort), 'offer');
      expect(portOf(reoffer)).toBe(portOf(toCaller));
      await translate(m, 'a', sdp(A.rtpPort), 'answer');
      await A.sendStream({ packets: 5, ptimeMs: 5, ssrc: 1, firstSeq: 2000 });
      await until(() => B2.received.length === 5);
      expect(B.received.length).toBe(5);
      // The same SDP again (a session refresh) keeps the latch.
      B2.sendTo('127.0.0.1', portOf(toCallee));
      await B2.sendStream({ packets: 3, ptimeMs: 5, ssrc: 77 });
      await translate(m, 'b', sdp(B2.rtpPort), 'offer');
      await until(() => A.received.length === 8);
    } finally {
      await m.close();
      A.close();
      B.close();
      B2.close();
    }
  });

  it('keeps only offered codecs in an answer, honours hold and rejected lines, refuses unreadable SDP', async () => {
    const m = anchoring.open('s2', CTX, HANDLERS);
    try {
      await translate(m, 'a', sdp(30000, [], '0 101'), 'offer');
      const answer = (await translate(m, 'b', sdp(30002, [], '8 0 101'), 'answer')).toString();
      expect(answer).toMatch(/m=audio \d+ RTP\/AVP 0 101\r\n/);
      expect(answer).not.toMatch(/PCMA/);
      const hold = (await translate(m, 'a', sdp(30000, ['a=sendonly']), 'offer')).toString();
      expect(hold).toMatch(/a=sendonly/);
      const two = Buffer.from(`${sdp(30000).toString()}m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n`);
      const rejected = (await translate(m, 'a', two, 'offer')).toString();
      expect(rejected).toMatch(/m=video 0 /);
      const bad = await m.translate('a', Buffer.from('this is not sdp'), 'application/sdp', 'offer');
      expect(bad).toEqual({ ok: false, status: 488, reason: 'Unreadable Session Description' });
      // Not SDP at all (e.g. an INFO body): passed through untouched.
      const info = await m.translate('a', Buffer.from('Signal=5\r\nDuration=160\r\n'), 'application/dtmf-relay', 'offer');
      expect(info.ok && info.body.toString()).toBe('Signal=5\r\nDuration=160\r\n');
    } finally {
      await m.close();
    }
  });

  it('answers 503 when the port range is used up, and gives every port back', async () => {
    const calls: CallMedia[] = [];
    try {
      // 8 ports = 4 pairs = 2 streams.
      for (let i = 0; i < 2; i++) {
        const m = anchoring.open(`full${i}`, CTX, HANDLERS);
        calls.push(m);
        await translate(m, 'a', sdp(31000 + 2 * i), 'offer');
      }
      const m = anchoring.open('full-extra', CTX, HANDLERS);
      calls.push(m);
      expect(await m.translate('a', sdp(31100), 'application/sdp', 'offer')).toEqual({ ok: false, status: 503, reason: 'Media Ports Exhausted' });
    } finally {
      for (const m of calls) await m.close();
    }
    expect((await engine.status()).portPairsInUse).toBe(0);
  });

  it('knows the country of phone-number users only', () => {
    expect(countryOf('+12065550100')).toBe('US');
    expect(countryOf('442071838750')).toBe('GB');
    expect(countryOf('alice')).toBeNull();
    expect(countryOf(undefined)).toBeNull();
  });
});

const b64 = (m: { key: Buffer; salt: Buffer }): string => Buffer.concat([m.key, m.salt]).toString('base64');
const savp = (port: number, cryptoLines: string[]): Buffer => Buffer.from(sdp(port, cryptoLines).toString().replace('RTP/AVP', 'RTP/SAVP'));

/** Ten packets each way between two peers through Carillon; `aTx`/`aRx` protect A's side when it is secure. */
async function crossTen(A: RtpPeer, B: RtpPeer, aPort: number, bPort: number, a?: { tx: SrtpContext; rx: SrtpContext }, b?: { tx: SrtpContext; rx: SrtpContext }): Promise<void> {
  A.sendTo('127.0.0.1', aPort);
  B.sendTo('127.0.0.1', bPort);
  const plain: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const p = Buffer.concat([Buffer.from([0x80, 0, 0, i, 0, 0, 0, i, 0, 0, 0, 0x0a]), Buffer.alloc(160, 0x55 + i)]);
    plain.push(p);
    A.sendRaw(a === undefined ? p : (a.tx.protectRtp(p) as Buffer));
  }
  const fromB: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const p = Buffer.concat([Buffer.from([0x80, 0, 1, i, 0, 0, 1, i, 0, 0, 0, 0x0b]), Buffer.alloc(160, 0x11 + i)]);
    fromB.push(p);
    B.sendRaw(b === undefined ? p : (b.tx.protectRtp(p) as Buffer));
  }
  await until(() => B.received.length >= 10 && A.received.length >= 10);
  const open = (side: { rx: SrtpContext } | undefined, pkt: Buffer): string => {
    if (side === undefined) return pkt.toString('hex');
    const d = side.rx.unprotectRtp(pkt);
    return d.ok ? d.packet.toString('hex') : 'bad';
  };
  expect(B.received.map((r) => open(b, r.packet))).toEqual(plain.map((p) => p.toString('hex')));
  expect(A.received.map((r) => open(a, r.packet))).toEqual(fromB.map((p) => p.toString('hex')));
}

describe.each(['sockets', 'native'] as const)('CallMedia: SDES-SRTP on one side, plain RTP on the other (%s relay)', (relay) => {
  let engine: MediaEngine;
  let anchoring: MediaAnchoring;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-callmedia-srtp-'));
    const low = (relay === 'native' ? 48000 : 48800) + 2 * Math.floor(Math.random() * 300);
    engine = await MediaEngine.start(
      { workers: 1, bindAddress: '127.0.0.1', low, high: low + 15, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 5000, cname: 't', releaseDelayMs: 0, nativeRelay: relay === 'native' },
      pino({ level: 'silent' }),
    );
    anchoring = new MediaAnchoring({ control: engine, address: '127.0.0.1', clock: systemClock, timers: nodeTimers, logger: pino({ level: 'silent' }), qualityLog: new QualityLog(dir), qualityIntervalMs: 60_000, region: 'local' });
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the secure side with its own key, offers plain RTP onward, and the audio crosses both ways', async () => {
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    const m = anchoring.open(`srtp-${relay}`, CTX, HANDLERS);
    try {
      const aKey = newMasterKey();
      const toCallee = (await m.translate('a', savp(A.rtpPort, [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${b64(aKey)}`]), 'application/sdp', 'offer')) as { ok: true; body: Buffer };
      expect(toCallee.body.toString()).toMatch(/m=audio \d+ RTP\/AVP /);
      expect(toCallee.body.toString()).not.toMatch(/a=crypto/);
      const toCaller = (await m.translate('b', sdp(B.rtpPort, [], '0 101'), 'application/sdp', 'answer')) as { ok: true; body: Buffer };
      const answer = toCaller.body.toString();
      expect(answer).toMatch(/m=audio \d+ RTP\/SAVP /);
      const ours = parseCryptoAttribute(/a=crypto:(.*)/.exec(answer)?.[1] ?? '');
      expect(ours).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80' });
      expect(ours?.master.key.equals(aKey.key)).toBe(false);
      const secure = { tx: new SrtpContext('AES_CM_128_HMAC_SHA1_80', aKey), rx: new SrtpContext('AES_CM_128_HMAC_SHA1_80', ours?.master ?? aKey) };
      await crossTen(A, B, portOf(toCaller.body), portOf(toCallee.body), secure);
    } finally {
      await m.close();
      A.close();
      B.close();
    }
  });

  it('offers SRTP to a side that must be secure though the caller is plain, and takes the suite it picks', async () => {
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    const m = anchoring.open(`forced-${relay}`, CTX, HANDLERS);
    m.requireSecure('b', true);
    try {
      const toCallee = (await m.translate('a', sdp(A.rtpPort), 'application/sdp', 'offer')) as { ok: true; body: Buffer };
      const offer = toCallee.body.toString();
      expect(offer).toMatch(/m=audio \d+ RTP\/SAVP /);
      const offered = [...offer.matchAll(/a=crypto:(.*)/g)].map((x) => parseCryptoAttribute(x[1] ?? ''));
      expect(offered.map((c) => [c?.tag, c?.suite])).toEqual([
        [1, 'AES_CM_128_HMAC_SHA1_80'],
        [2, 'AES_CM_128_HMAC_SHA1_32'],
      ]);
      // The callee picks the _32 suite (tag 2) and answers with its own key.
      const bKey = newMasterKey();
      const toCaller = (await m.translate('b', savp(B.rtpPort, [`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${b64(bKey)}`]), 'application/sdp', 'answer')) as { ok: true; body: Buffer };
      expect(toCaller.body.toString()).toMatch(/m=audio \d+ RTP\/AVP /);
      expect(toCaller.body.toString()).not.toMatch(/a=crypto/);
      const ours = offered[1]?.master ?? bKey;
      const secure = { tx: new SrtpContext('AES_CM_128_HMAC_SHA1_32', bKey), rx: new SrtpContext('AES_CM_128_HMAC_SHA1_32', ours) };
      await crossTen(A, B, portOf(toCaller.body), portOf(toCallee.body), undefined, secure);
    } finally {
      await m.close();
      A.close();
      B.close();
    }
  });

  it('refuses (488) a description without SRTP from a side that must be secure', async () => {
    const m = anchoring.open(`refuse-${relay}`, CTX, HANDLERS);
    m.requireSecure('a', true);
    try {
      expect(await m.translate('a', sdp(40000), 'application/sdp', 'offer')).toEqual({ ok: false, status: 488, reason: 'SRTP Required' });
    } finally {
      await m.close();
    }
  });
});
