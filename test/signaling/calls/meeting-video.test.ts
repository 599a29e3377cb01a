import { describe, expect, it } from 'vitest';
import { readSdp } from '../../../signaling/sdp/anchor.ts';
import type { MediaDescription } from '../../../signaling/sdp/anchor.ts';
import { chooseVideo, isPictureFastUpdate, PICTURE_FAST_UPDATE_XML, videoAnswerLines } from '../../../signaling/calls/meeting-video.ts';

/** A room system's offer: audio, camera (H.264 High and Baseline, H.263), content (slides) and BFCP, as Polycom/Cisco write them. */
const ROOM_OFFER = [
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  'b=AS:2048',
  't=0 0',
  'm=audio 49170 RTP/AVP 9 0 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'm=video 49172 RTP/AVP 109 96 34',
  'b=TIAS:1536000',
  'a=rtpmap:109 H264/90000',
  'a=fmtp:109 profile-level-id=640028;packetization-mode=1',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=42e01f',
  'a=rtpmap:34 H263/90000',
  'a=rtcp-fb:* nack pli',
  'a=rtcp-fb:* ccm fir',
  'a=rtcp-fb:109 ccm tmmbr',
  'a=content:main',
  'm=video 49174 RTP/AVP 109',
  'a=rtpmap:109 H264/90000',
  'a=content:slides',
  'a=label:3',
  'm=application 5070 TCP/BFCP *',
  'a=floorctrl:c-only',
  '',
].join('\r\n');

describe('meeting video SDP', () => {
  it('picks the camera line, H.264 mode 1, Constrained Baseline at the offered level (capped), its feedback and limit', () => {
    const desc = readSdp(ROOM_OFFER);
    if (desc === undefined) throw new Error('unreadable');
    const v = chooseVideo(desc);
    expect(v).toMatchObject({ index: 1, codec: "H264", payloadType: 109, packetizationMode: 1, h264Level: 0x1f, fmtp: 'profile-level-id=42e01f;packetization-mode=1', maxBitrateBps: 1_536_000 });
    expect(v?.feedback).toEqual({ pli: true, fir: true, tmmbr: true, remb: false });
    if (v === undefined) throw new Error('no video');
    const lines = videoAnswerLines(v, desc.media[1] as MediaDescription, 20002);
    expect(lines).toEqual([
      'm=video 20002 RTP/AVP 109',
      'b=AS:2048',
      'b=TIAS:2048000',
      'a=rtpmap:109 H264/90000',
      'a=fmtp:109 profile-level-id=42e01f;packetization-mode=1',
      'a=rtcp-fb:109 nack pli',
      'a=rtcp-fb:109 ccm fir',
      'a=rtcp-fb:109 ccm tmmbr',
      'a=sendrecv',
      'a=rtcp:20003',
    ]);
  });

  it('falls back to mode 0 or H.263, and takes none from content-only or unknown codecs', () => {
    const only = (m: string[]) => readSdp(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', ...m, ''].join('\r\n'));
    const mode0 = only(['m=video 4002 RTP/AVP 97', 'a=rtpmap:97 H264/90000', 'a=fmtp:97 profile-level-id=42800d']);
    expect(mode0 && chooseVideo(mode0)).toMatchObject({ payloadType: 97, packetizationMode: 0, fmtp: 'profile-level-id=42e00d;packetization-mode=0' });
    const none = only(['m=video 4002 RTP/AVP 97', 'a=rtpmap:97 H264/90000']);
    expect(none && chooseVideo(none)).toMatchObject({ fmtp: 'profile-level-id=42e00a;packetization-mode=0' });
    const h263 = only(['m=video 4002 RTP/AVP 34 98', 'a=rtpmap:98 H263-1998/90000']);
    expect(h263 && chooseVideo(h263)).toMatchObject({ codec: 'H263-1998', payloadType: 98 });
    const slides = only(['m=video 4002 RTP/AVP 97', 'a=rtpmap:97 H264/90000', 'a=content:slides']);
    expect(slides && chooseVideo(slides)).toBeUndefined();
    const vp8 = only(['m=video 4002 RTP/AVP 100', 'a=rtpmap:100 VP8/90000']);
    expect(vp8 && chooseVideo(vp8)).toBeUndefined();
    const mode2 = only(['m=video 4002 RTP/AVP 97', 'a=rtpmap:97 H264/90000', 'a=fmtp:97 packetization-mode=2']);
    expect(mode2 && chooseVideo(mode2)).toBeUndefined();
    const secureNoSuite = only(['m=video 4002 RTP/SAVP 97', 'a=rtpmap:97 H264/90000', 'a=crypto:1 F8_128_HMAC_SHA1_80 inline:AAAA']);
    expect(secureNoSuite && chooseVideo(secureNoSuite)).toBeUndefined();
  });

  it('recognises picture_fast_update (RFC 5168) and nothing else', () => {
    expect(isPictureFastUpdate('application/media_control+xml', Buffer.from(PICTURE_FAST_UPDATE_XML))).toBe(true);
    expect(isPictureFastUpdate('Application/Media_Control+XML; charset=utf-8', Buffer.from('<media_control><vc_primitive><to_encoder><picture_fast_update></picture_fast_update></to_encoder></vc_primitive></media_control>'))).toBe(true);
    expect(isPictureFastUpdate('application/dtmf-relay', Buffer.from('Signal=1'))).toBe(false);
    expect(isPictureFastUpdate('application/media_control+xml', Buffer.from('<media_control/>'))).toBe(false);
    expect(isPictureFastUpdate('application/media_control+xml', Buffer.alloc(5000, 0x20))).toBe(false);
    expect(isPictureFastUpdate(undefined, undefined)).toBe(false);
  });
});
