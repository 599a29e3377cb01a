/**
 * Two small codecs the endpoint's hand-written H.225/H.245 schemas need on top of the shared PER
 * runtime: `notModelled` for root alternatives the test endpoint never meets (PER cannot skip a root
 * alternative, so decoding one ends in a typed PerError instead of a wrong value) and `rest` for
 * extension additions kept as their open-type bytes.
 */
import { PerError } from '../../../signaling/h323/per/index.ts';
import type { Codec } from '../../../signaling/h323/per/index.ts';

/** A type this endpoint does not carry: refusing it is the only correct reading. */
export function notModelled(name: string): Codec<never> {
  return {
    write: () => {
      throw new PerError('PER_INVALID', `${name} is not modelled by the test endpoint`);
    },
    read: () => {
      throw new PerError('PER_INVALID', `${name} is not modelled by the test endpoint`);
    },
  };
}

/**
 * The whole of an open type's contents as octets (only inside an extension addition, where the runtime
 * hands the codec a reader over exactly those bytes). Lets a schema name additions it does not read.
 */
export const rest: Codec<Buffer> = {
  write: (w, v) => w.writeOctets(v),
  read: (r) => Buffer.from(r.readOctets(r.remainingBits >>> 3)),
};
