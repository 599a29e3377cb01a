import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { destinationOf } from '../../../../signaling/h323/call/aliases.ts';
import type { Alias } from '../../../../signaling/h323/call/aliases.ts';

const d = (kind: Alias['kind'], value: string): Alias => ({ kind, value });

describe('the callee of an H.323 Setup', () => {
  it('reads a meeting ID however a room system dials it', () => {
    expect(destinationOf([d('dialedDigits', '1234567890')], undefined)).toEqual({ user: '1234567890', domain: undefined, passcode: undefined });
    expect(destinationOf([d('h323-ID', '1234567890@meet.example.com')], undefined)).toEqual({ user: '1234567890', domain: 'meet.example.com', passcode: undefined });
    expect(destinationOf([d('url-ID', 'h323:1234567890123@Meet.Example.com')], undefined)?.user).toBe('1234567890123');
    expect(destinationOf([d('h323-ID', '192.0.2.10##1234567890')], undefined)?.user).toBe('1234567890');
    expect(destinationOf([d('email-ID', '1234567890@meet.example.com')], undefined)?.domain).toBe('meet.example.com');
  });

  it('takes a passcode dialed after the ID', () => {
    expect(destinationOf([d('dialedDigits', '1234567890#4321')], undefined)).toEqual({ user: '1234567890', domain: undefined, passcode: '4321' });
    expect(destinationOf([d('h323-ID', '192.0.2.10##1234567890##4321')], undefined)?.passcode).toBe('4321');
    expect(destinationOf([d('h323-ID', '1234567890$$4321@meet.example.com')], undefined)).toEqual({ user: '1234567890', domain: 'meet.example.com', passcode: '4321' });
  });

  it('prefers the alias that names digits (a room name first), then a name, then the Called party number', () => {
    expect(destinationOf([d('h323-ID', 'meet'), d('dialedDigits', '1234567890')], undefined)?.user).toBe('1234567890');
    expect(destinationOf([d('h323-ID', 'meet')], '5551234')?.user).toBe('meet');
    expect(destinationOf([], '+15551234567')?.user).toBe('+15551234567');
    expect(destinationOf([d('transportID', '10.0.0.1:1720')], undefined)).toBeUndefined();
    expect(destinationOf([], undefined)).toBeUndefined();
  });

  it('refuses text no router could take, whatever it is', () => {
    expect(destinationOf([d('h323-ID', 'a'.repeat(300))], undefined)).toBeUndefined();
    expect(destinationOf([d('h323-ID', 'Room <script>')], undefined)).toBeUndefined();
    fc.assert(
      fc.property(fc.array(fc.record({ kind: fc.constantFrom<Alias['kind']>('dialedDigits', 'h323-ID', 'url-ID', 'email-ID', 'partyNumber', 'transportID', 'other'), value: fc.string({ maxLength: 300 }) }), { maxLength: 20 }), fc.option(fc.string(), { nil: undefined }), (aliases, called) => {
        const r = destinationOf(aliases, called);
        if (r !== undefined) expect(r.user).toMatch(/^\+?[0-9]{1,32}$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
      }),
      { numRuns: 2000 },
    );
  });
});
