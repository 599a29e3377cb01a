import { describe, expect, it } from 'vitest';
import { nodeTimers } from '../../common/clock.ts';
import { InternalError } from '../../common/errors.ts';
import { ICT_TRANSITIONS } from '../../signaling/sip/transaction/invite-client-transaction.ts';
import { IST_TRANSITIONS } from '../../signaling/sip/transaction/invite-server-transaction.ts';
import { NICT_TRANSITIONS } from '../../signaling/sip/transaction/non-invite-client-transaction.ts';
import { NIST_TRANSITIONS } from '../../signaling/sip/transaction/non-invite-server-transaction.ts';
import { TransactionBase } from '../../signaling/sip/transaction/transaction-base.ts';
import { DIALOG_TRANSITIONS, Dialog } from '../../signaling/sip/dialog/dialog.ts';
import type { DialogState } from '../../signaling/sip/dialog/dialog.ts';
import { CALL_TRANSITIONS, Call } from '../../signaling/calls/call.ts';
import { inertLeg } from '../support/inert-leg.ts';
import type { CallState } from '../../signaling/calls/call.ts';
import { callId } from '../../common/ids.ts';

/** A bare machine over a table, to drive transition() directly. */
class Probe<S extends string> extends TransactionBase<S> {
  entered: string[] = [];
  constructor(initial: S, table: Readonly<Record<S, readonly S[]>>) {
    super(initial, table, nodeTimers);
  }
  move(to: S): void {
    this.transition(to);
  }
  protected onEnter(to: S, from: S): void {
    this.entered.push(`${from}>${to}`);
  }
}

function pairs<S extends string>(table: Readonly<Record<S, readonly S[]>>): { legal: [S, S][]; illegal: [S, S][] } {
  const states = Object.keys(table) as S[];
  const legal: [S, S][] = [];
  const illegal: [S, S][] = [];
  for (const from of states) for (const to of states) if (from !== to) ((table[from] as readonly S[]).includes(to) ? legal : illegal).push([from, to]);
  return { legal, illegal };
}

const MACHINES = { ICT_TRANSITIONS, NICT_TRANSITIONS, IST_TRANSITIONS, NIST_TRANSITIONS } as const;

describe.each(Object.entries(MACHINES))('%s', (_name, table) => {
  const t = table as Readonly<Record<string, readonly string[]>>;
  const { legal, illegal } = pairs(t);
  it.each(legal)('%s → %s is legal and enters the new state', (from, to) => {
    const p = new Probe(from, t);
    p.move(to);
    expect(p.state).toBe(to);
    expect(p.entered).toEqual([`${from}>${to}`]);
  });
  it.each(illegal)('%s → %s is refused', (from, to) => {
    const p = new Probe(from, t);
    expect(() => p.move(to)).toThrow(InternalError);
    expect(p.state).toBe(from);
  });
  it('every state can terminate, and terminated is final', () => {
    for (const s of Object.keys(t)) if (s !== 'terminated') expect(t[s]).toContain('terminated');
    expect(t.terminated).toEqual([]);
  });
});

describe('dialog transitions', () => {
  const mk = (state: DialogState): Dialog =>
    new Dialog({ callId: 'c', localTag: 'l', localUri: '<sip:a@x>', remoteUri: '<sip:b@y>', localSeq: 1, remoteTarget: 'sip:b@127.0.0.1', routeSet: [], flow: { transport: 'udp' }, state });
  const { legal, illegal } = pairs(DIALOG_TRANSITIONS);
  it.each(legal)('%s → %s', (from, to) => {
    const d = mk(from);
    d.transition(to);
    expect(d.state).toBe(to);
  });
  it.each(illegal)('%s → %s is refused', (from, to) => {
    expect(() => mk(from).transition(to)).toThrow();
  });
});

describe('call transitions', () => {
  const { legal, illegal } = pairs(CALL_TRANSITIONS);
  /** A call walked to `state` along legal moves. */
  const at = (state: CallState): Call => {
    const c = new Call(callId('c'), inertLeg('a@c'), undefined, 0);
    const path: Record<CallState, CallState[]> = {
      routing: [],
      calling: ['calling'],
      early: ['calling', 'early'],
      answered: ['calling', 'answered'],
      confirmed: ['calling', 'answered', 'confirmed'],
      ending: ['ending'],
      ended: ['ended'],
    };
    for (const s of path[state]) expect(c.transition(s)).toBe(true);
    return c;
  };
  it.each(legal)('%s → %s', (from, to) => {
    const c = at(from);
    expect(c.transition(to)).toBe(true);
    expect(c.state).toBe(to);
  });
  it.each(illegal)('%s → %s is refused and the state stays', (from, to) => {
    const c = at(from);
    expect(c.transition(to)).toBe(false);
    expect(c.state).toBe(from);
  });
});
