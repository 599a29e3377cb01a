import { describe, expect, it } from 'vitest';
import { LINEAR_TO_ULAW } from '../../../media/codecs/g711.ts';
import { G722Decoder, G722Encoder } from '../../../media/codecs/g722.ts';
import { Bridge } from '../../../media/mixer/bridge.ts';

// A G.722 listener that starts talking moves from its codec's shared mix to a mix-minus of its
// own. Its phone decodes one continuous stream, so the ADPCM state of its own encoder must
// continue from the shared one: what it hears across the switch stays clean.

function ulawTone(hz: number, amplitude: number, frame: number): Uint8Array {
  const out = new Uint8Array(160);
  for (let i = 0; i < 160; i++) out[i] = LINEAR_TO_ULAW[Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frame * 160 + i)) / 8000)) + 32768] ?? 0;
  return out;
}

describe('Bridge: a listener that starts talking', () => {
  it('hears the meeting without a glitch: its own stream continues the shared coder state', () => {
    const heard: number[] = [];
    const decoder = new G722Decoder();
    const pcm = new Int16Array(320);
    const bridge = new Bridge({
      talkers: 3,
      onFrame: (id, payload, length) => {
        if (id !== 'b') return;
        const n = decoder.decode(payload, length, pcm);
        for (let i = 0; i < n; i++) heard.push(pcm[i] ?? 0);
      },
    });
    expect(bridge.join('a', 'PCMU')).toBe('joined');
    expect(bridge.join('b', 'G722')).toBe('joined');
    expect(bridge.join('c', 'G722')).toBe('joined');
    const enc = new G722Encoder();
    const own = new Int16Array(320);
    const g722 = new Uint8Array(160);
    const SWITCH = 50;
    for (let t = 0; t < 100; t++) {
      const a = ulawTone(1000, 6000, t);
      bridge.push('a', t, t * 160, 1, a, 160, t * 20);
      // b sends silence, then (from SWITCH on) a 300 Hz tone: it becomes a talker.
      for (let i = 0; i < 320; i++) own[i] = t >= SWITCH ? Math.round(6000 * Math.sin((2 * Math.PI * 300 * (t * 320 + i)) / 16000)) : 0;
      const n = enc.encode(own, g722);
      bridge.push('b', t, t * 160, 2, g722, n, t * 20);
      bridge.tick();
    }
    expect(bridge.isTalking('b')).toBe(true);
    // b hears a's 1 kHz tone (upsampled G.711, through G.722) throughout. Around the switch the
    // received samples stay a clean tone: no sample jumps beyond what a 6000-amplitude 1 kHz tone
    // can do between two samples at 16 kHz (2π·1000/16000·6000 ≈ 2356), with margin.
    const from = (SWITCH - 5) * 320;
    const to = (SWITCH + 20) * 320;
    let worst = 0;
    for (let i = from + 1; i < to; i++) worst = Math.max(worst, Math.abs((heard[i] ?? 0) - (heard[i - 1] ?? 0)));
    expect(worst).toBeLessThan(4000);
  });
});
