import { describe, expect, it } from 'vitest';
import { decoderErrors, setVideoColour, startBaresip, takeSnapshot, videoDebug, videoStats } from '../support/baresip.ts';
import type { BaresipHandle } from '../support/baresip.ts';
import { createNetns } from '../support/netns.ts';

async function until(what: string, ok: () => boolean, timeoutMs: number, h: readonly BaresipHandle[]): Promise<void> {
  for (let waited = 0; !ok(); waited += 100) {
    if (waited >= timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms\n${h.map((x) => x.output().slice(-2000)).join('\n-----\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The video test peers, proven without Carillon: two baresips in one namespace of the test call
// each other directly (different SIP ports on the namespace address).
describe('baresip video peers (no Carillon)', () => {
  it('H.264 both ways: each names the colour the other sends, follows a change of picture, and decodes without an error', async () => {
    const ns = createNetns();
    const red = startBaresip({ ns, user: 'red', port: 25210, seconds: 8, video: { colour: 'red' }, dial: `sip:blue@${ns.address}:25220` });
    // The answerer offers H.264 mode 1 as well; the dialer accepts mode 0 only, so both send mode 0.
    const blue = startBaresip({ ns, user: 'blue', port: 25220, seconds: 9, video: { colour: 'blue', packetizationMode: 1 } });
    const both = [red, blue];
    try {
      await until('both calls established', () => both.every((p) => p.stats().established), 6000, both);
      const seenByRed = await takeSnapshot(red);
      const seenByBlue = await takeSnapshot(blue);
      const outputs = (): string => both.map((p) => p.output().slice(-2000)).join('\n-----\n');
      expect(seenByRed?.colour, `${JSON.stringify(seenByRed)}\n${outputs()}`).toBe('blue');
      expect(seenByBlue?.colour, `${JSON.stringify(seenByBlue)}\n${outputs()}`).toBe('red');

      // A new picture from the same encoder (no key frame): the receiver follows it.
      setVideoColour(red, 'yellow');
      let now = seenByBlue;
      for (let i = 0; i < 20 && now?.colour !== 'yellow'; i++) now = await takeSnapshot(blue);
      expect(now?.colour, `${JSON.stringify(now)}\n${outputs()}`).toBe('yellow');

      const debug = await videoDebug(blue);
      expect(debug?.keyFramesReceived, outputs()).toBeGreaterThanOrEqual(1);
      expect(debug?.framesDisplayed).toBeGreaterThan(0);
      expect(debug?.framesSent).toBeGreaterThan(0);

      await Promise.all(both.map((p) => p.done));
      for (const p of both) {
        const s = videoStats(p);
        expect(s, p.output().slice(-3000)).toMatchObject({ sendMode: 0, receiveMode: 0, receivedSize: '320x240', ssrcChanges: 0 });
        expect(s.keyFramesSent).toBeGreaterThanOrEqual(1);
        expect(s.rtpFrom).toEqual([ns.address]);
        expect(decoderErrors(p), p.output().slice(-3000)).toBe(0);
      }
      // rtcpsummary prints on the side whose call the other ended (red quit first).
      const atEnd = videoStats(blue);
      expect(atEnd, blue.output().slice(-3000)).toMatchObject({ summary: true, lost: 0 });
      expect(atEnd.rxPackets).toBeGreaterThan(0);
      expect(atEnd.txPackets).toBeGreaterThan(0);
    } finally {
      for (const p of both) p.kill();
      ns.destroy();
    }
  }, 30_000);
});
