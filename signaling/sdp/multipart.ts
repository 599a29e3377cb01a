/**
 * multipart/mixed bodies (RFC 2046 §5.1) as SIP carries them — a SIPREC INVITE holds its SDP and
 * its rs-metadata (RFC 7866) side by side. Parts come back with lower-cased header names.
 */
export interface BodyPart {
  readonly headers: ReadonlyMap<string, string>;
  readonly contentType: string;
  readonly body: Buffer;
}

/** The boundary of a multipart Content-Type, undefined when it names none. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** The parts of `body`, or undefined when it is not a well-formed multipart body for `contentType`. */
export function parseMultipart(body: Buffer, contentType: string): BodyPart[] | undefined {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined || !/^multipart\//i.test(contentType.trim())) return undefined;
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const chunks = text.split(delimiter);
  if (chunks.length < 3) return undefined;
  const parts: BodyPart[] = [];
  // chunks[0] is the preamble; the one starting with "--" follows the close delimiter.
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith('--')) return parts;
    const content = chunk.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, '');
    const split = /\r?\n\r?\n/.exec(content);
    const head = split === null ? content : content.slice(0, split.index);
    const partBody = split === null ? '' : content.slice(split.index + split[0].length);
    const headers = new Map<string, string>();
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    parts.push({ headers, contentType: (headers.get('content-type') ?? 'text/plain').toLowerCase(), body: Buffer.from(partBody, 'latin1') });
  }
  // No close delimiter: not a complete body.
  return undefined;
}
