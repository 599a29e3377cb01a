import { displayHeaderName } from './headers.ts';
import type { SipMessage } from './types.ts';

/**
 * Writes a message (RFC 3261 §7): start line, headers with Carillon's display names, a
 * Content-Length equal to the body's size (whatever the message said), blank line, body bytes.
 * One allocation: the head is written as latin1 into a buffer sized for head + body.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  let head = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  const hs = msg.headers;
  let lengthWritten = false;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (h.name === 'content-length') {
      // Kept where it stood, with the true length; any duplicate is dropped.
      if (!lengthWritten) head += `Content-Length: ${msg.body.length}\r\n`;
      lengthWritten = true;
      continue;
    }
    head += `${displayHeaderName(h.name)}: ${h.value}\r\n`;
  }
  if (!lengthWritten) head += `Content-Length: ${msg.body.length}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, 'latin1');
  msg.body.copy(out, headLen);
  return out;
}
