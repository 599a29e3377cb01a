/**
 * Who an H.323 caller is calling, from the Setup's destinationAddress aliases and the Called
 * party number IE: the user part the routers take (a meeting ID, a host's 13-digit ID, a number
 * to route on a trunk, or `meet` for the IVR), the domain it named, and a passcode dialed after
 * it. Room systems dial `IP##1234567890` (Polycom RMX style), `1234567890@host`, `h323:…` URLs,
 * or put the ID and a passcode in one string (`1234567890#4321` or `1234567890##4321`).
 */

/** One AliasAddress alternative, as the H.225 layer reads it (its CHOICE name and text). */
export interface Alias {
  readonly kind: 'dialedDigits' | 'h323-ID' | 'url-ID' | 'email-ID' | 'partyNumber' | 'transportID' | 'other';
  readonly value: string;
}

/** The callee the aliases name. */
export interface H323Destination {
  /** The user part: digits (an E.164 number may keep its +) or a name such as `meet`. */
  readonly user: string;
  /** The domain the alias named (`…@domain`), if any. */
  readonly domain: string | undefined;
  /** Digits dialed after the ID (`ID#passcode`, `ID##passcode`), if any. */
  readonly passcode: string | undefined;
}

/** The longest alias text read: longer ones name nothing Carillon routes on. */
const MAX_ALIAS = 256;
const USER = /^\+?[0-9]{1,32}$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function readOne(alias: Alias): H323Destination | undefined {
  if (alias.value.length === 0 || alias.value.length > MAX_ALIAS) return undefined;
  let text = alias.value.trim();
  if (alias.kind === 'url-ID') text = text.replace(/^h323:/i, '');
  else if (alias.kind !== 'dialedDigits' && alias.kind !== 'h323-ID' && alias.kind !== 'email-ID' && alias.kind !== 'partyNumber') return undefined;
  // `IP##ID`: what follows the gateway's address is the alias.
  const hashes = text.indexOf('##');
  if (hashes > 0 && /^[0-9.]+$|^[A-Za-z0-9.-]+$/.test(text.slice(0, hashes)) && /\./.test(text.slice(0, hashes))) text = text.slice(hashes + 2);
  let domain: string | undefined;
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    domain = text.slice(at + 1).toLowerCase();
    text = text.slice(0, at);
    if (!/^[a-z0-9.-]{1,253}$|^\[[0-9a-f:.]+\]$/.test(domain)) domain = undefined;
  }
  let passcode: string | undefined;
  const m = /^(\+?[0-9]+)(?:##?|\$\$)([0-9]{1,16})#?$/.exec(text);
  if (m !== null) {
    text = m[1] ?? '';
    passcode = m[2];
  } else text = text.replace(/#$/, '');
  if (!USER.test(text)) return undefined;
  return { user: text, domain, passcode };
}

/**
 * The destination of a Setup: the first alias that names digits, else the first that names a
 * user, else the Called party number; undefined when none does (the IVR asks).
 */
export function destinationOf(aliases: readonly Alias[], calledNumber: string | undefined): H323Destination | undefined {
  const read = aliases.slice(0, 16).map(readOne).filter((d): d is H323Destination => d !== undefined);
  const digits = read.find((d) => /^\+?[0-9]+$/.test(d.user));
  if (digits !== undefined) return digits;
  if (read[0] !== undefined) return read[0];
  if (calledNumber !== undefined) return readOne({ kind: 'dialedDigits', value: calledNumber });
  return undefined;
}
