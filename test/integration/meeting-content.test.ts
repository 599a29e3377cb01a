import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSdp } from '../../signaling/sdp/anchor.ts';
import { BfcpTestClient, P, requestStatus, STATUS } from '../support/bfcp-client.ts';
import { answeredSdp, meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness, TestParticipant } from '../support/meeting-harness.ts';
import { freePort } from '../support/ports.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * Presentation content in a meeting: SIP room systems (SIPp) offer a content line (`a=content:slides`)
 * and a BFCP line; Carillon answers as floor control server; the test's BFCP client (written from
 * RFC 8855, test/support/bfcp-client.ts) requests the floor; the presenter's content stream (H.264
 * from its content port) reaches the others' content ports; a second request waits in the queue and
 * gets the floor when the first is released.
 */
interface Room {
  readonly part: TestParticipant;
  readonly content: dgram.Socket;
  readonly contentPort: number;
  carillonContentPort: number;
  confId: number;
  userId: number;
  /** Content packets received from Carillon: their first payload octet (NAL header). */
  readonly got: number[];
  bfcp: BfcpTestClient | undefined;
}

/** A key frame then P slices of a content stream, from the room's content port to Carillon's. */
function sendContent(r: Room, ssrc: number, frames: number, startSeq: number): void {
  for (let i = 0; i < frames; i++) {
    const nals = i === 0 ? [[0x67, 0x42, 0xe0, 0x1f], [0x68, 0xce, 0x3c, 0x80], [0x65, 0x88, 0x84, 0x21]] : [[0x41, 0x9a, 0x02, 0x03]];
    nals.forEach((nal, k) => {
      const b = Buffer.alloc(12 + nal.length);
      b[0] = 0x80;
      b[1] = (k === nals.length - 1 ? 0x80 : 0) | 96;
      b.writeUInt16BE((startSeq + i * 4 + k) & 0xffff, 2);
      b.writeUInt32BE((i * 9000) >>> 0, 4);
      b.writeUInt32BE(ssrc >>> 0, 8);
      Buffer.from(nal).copy(b, 12);
      r.content.send(b, r.carillonContentPort, '127.0.0.1');
    });
  }
}

describe('presentation content in a meeting (BFCP floor control)', () => {
  let t: TestServer;
  let h: MeetingHarness;
  beforeAll(async () => {
    t = await startTestServer({});
    h = meetingHarness(t);
  });
  afterAll(async () => {
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  it("one presenter at a time: the floor holder's content reaches the others, a second request queues, release hands over", async () => {
    const m = await h.create({ JoinTones: false });
    const rooms: Room[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const contentPort = await freePort();
        const content = dgram.createSocket('udp4');
        await new Promise<void>((r) => content.bind(contentPort, '127.0.0.1', r));
        const part = await h.dial(m.pin, { payloadType: 0, holdMs: 14_000, contentPort });
        const sdp = await answeredSdp(part, 'm=application');
        const desc = readSdp(sdp);
        const contentLine = desc?.media.find((x) => x.type === 'video');
        const confId = Number(/a=confid:(\d+)/.exec(sdp)?.[1] ?? 0);
        const userId = Number(/a=userid:(\d+)/.exec(sdp)?.[1] ?? 0);
        expect(sdp).toMatch(/a=content:slides/);
        expect(sdp).toMatch(/m=application \d+ TCP\/BFCP \*/);
        expect(sdp).toMatch(/a=floorctrl:s-only/);
        expect(sdp).toMatch(/a=setup:passive/);
        expect(sdp).toMatch(/a=floorid:1 mstrm:3/);
        const r: Room = { part, content, contentPort, carillonContentPort: contentLine?.port ?? 0, confId, userId, got: [], bfcp: undefined };
        content.on('message', (b) => r.got.push(b[12] ?? 0));
        rooms.push(r);
      }
      const [a, b, c] = rooms as [Room, Room, Room];
      expect(new Set(rooms.map((r) => r.confId)).size).toBe(1);
      expect(new Set(rooms.map((r) => r.userId)).size).toBe(3);
      for (const r of rooms) {
        r.bfcp = await BfcpTestClient.tcp('127.0.0.1', t.ports.bfcp as number, { conferenceId: r.confId, userId: r.userId, waitMs: 10_000 });
        expect((await r.bfcp.hello()).primitive).toBe(P.HelloAck);
      }
      const ca = a.bfcp as BfcpTestClient;
      const cb = b.bfcp as BfcpTestClient;
      // Everyone sends content (as a room system sends nothing until it presents, but Carillon must forward only the presenter's).
      sendContent(b, 0xb0b0, 3, 100);
      sendContent(c, 0xc0c0, 3, 200);
      await sleep(300);
      expect(a.got.length + b.got.length + c.got.length).toBe(0);
      // a asks for the floor: granted; its content (from its key frame) reaches b and c, not a.
      const ra = await ca.floorRequest(1);
      await ca.waitForStatus('Granted', ra.requestId);
      await sleep(200);
      sendContent(a, 0xa0a0, 5, 300);
      await until(() => b.got.length >= 7 && c.got.length >= 7, 5000);
      expect(b.got[0]).toBe(0x67);
      expect(c.got[0]).toBe(0x67);
      expect(a.got.length).toBe(0);
      let live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as { Meeting: { Live: { Participants: { Presenting: boolean }[] } } };
      expect(live.Meeting.Live.Participants.map((p) => p.Presenting)).toEqual([true, false, false]);
      // b asks while a presents: it waits (Accepted, first in the queue).
      const rb = await cb.floorRequest(1);
      expect(rb.status === STATUS.Pending || rb.status === STATUS.Accepted).toBe(true);
      const queued = await cb.waitForStatus('Accepted', rb.requestId);
      expect(requestStatus(queued)?.queue).toBe(1);
      // a releases: b gets the floor; a and c are sent b's content from b's key frame.
      await ca.floorRelease(ra.requestId);
      await cb.waitForStatus('Granted', rb.requestId);
      const [aMark, cMark] = [a.got.length, c.got.length];
      await sleep(200);
      sendContent(b, 0xb0b0, 5, 400);
      await until(() => a.got.length >= aMark + 7 && c.got.length >= cMark + 7, 5000);
      expect(a.got[aMark]).toBe(0x67);
      expect(c.got[cMark]).toBe(0x67);
      live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as typeof live;
      expect(live.Meeting.Live.Participants.map((p) => p.Presenting)).toEqual([false, true, false]);
      // Garbage on the BFCP connection of c: an Error, or the connection closes; the floor stays with b.
      (c.bfcp as BfcpTestClient).sendRaw(Buffer.from('this is not BFCP at all, just text!!'));
      await sleep(300);
      live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as typeof live;
      expect(live.Meeting.Live.Participants.map((p) => p.Presenting)).toEqual([false, true, false]);
      // The moderator stops the presentation through the API: b's request is Revoked, nobody presents.
      const stop = await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/stop-presenting`, {});
      expect(stop.status).toBe(204);
      await cb.waitForStatus('Revoked', rb.requestId);
      live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as typeof live;
      expect(live.Meeting.Live.Participants.map((p) => p.Presenting)).toEqual([false, false, false]);
      const metrics = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
      expect(metrics).toMatch(/^carillon_meeting_moderator_actions_total\{action="stop-presenting",source="api"\} 1$/m);
      expect(metrics).toMatch(/^carillon_meeting_content_grants_total 2$/m);
      expect(metrics).toMatch(/^carillon_bfcp_lines_answered_total 3$/m);
      expect(metrics).toMatch(/^carillon_bfcp_connections [23]$/m);
      await Promise.all(rooms.map((r) => r.part.sipp.done));
    } finally {
      for (const r of rooms) {
        r.bfcp?.close();
        r.content.close();
      }
    }
  }, 60_000);
});
