import dns from 'node:dns';
import { CreateVoiceConnectorCommand, PutVoiceConnectorOriginationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { RawUdpPeer } from '../support/raw-sip.ts';
import { takeSystemDnsViolations } from '../support/no-system-dns.ts';
import { trunkApi } from '../support/trunk-api.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

/**
 * OPTIONS pings to origination routes named by host name resolve through the server's one
 * resolver — in tests the test server's own table — and never through the machine's.
 */
/** Answers every OPTIONS it gets with 200 (a PBX's keepalive answer), counting them. */
function answerOptions(peer: RawUdpPeer, serverPort: () => number): void {
  peer.socket.on('message', (buf) => {
    const text = buf.toString('latin1');
    if (!text.startsWith('OPTIONS ')) return;
    const keep = text.split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
    peer.send(`SIP/2.0 200 OK\r\n${keep.map((l) => (/^to:/i.test(l) ? `${l};tag=pbx` : l)).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, serverPort());
  });
}

async function routeUp(t: TestServer): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^carillon_route_up\{target="([^"]+)"\} (\d+)$/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('the test guard', () => {
  it("refuses the machine's resolver and says so", async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => dns.lookup('pbx.example.net', (e) => resolve(e)));
    expect(err?.code).toBe('ENOTFOUND');
    await expect(dns.promises.resolveSrv('_sip._udp.pbx.example.net')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(new dns.promises.Resolver().resolve4('pbx.example.net')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(takeSystemDnsViolations()).toEqual(['dns.lookup(pbx.example.net)', 'dns.promises.resolveSrv(_sip._udp.pbx.example.net)', expect.stringMatching(/^Resolver\.resolve4\(pbx\.example\.net\) at /)]);
  });
});

describe('route health pings through the injected resolver', () => {
  let t: TestServer;
  let api: TrunkApi;
  const pbx = new RawUdpPeer();
  let port = 0;

  beforeAll(async () => {
    // A PBX that answers OPTIONS, reached as pbx.test through the test server's DNS table.
    port = await pbx.open();
    answerOptions(pbx, () => t.ports.sipUdp as number);
    t = await startTestServer({ sip: { optionsPingIntervalSec: 0.2 } });
    t.dns.records.push({ name: 'pbx.test', type: 'A', address: '127.0.0.1' });
    api = trunkApi(t);
    const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'named routes', RequireEncryption: false }))).VoiceConnector?.VoiceConnectorId ?? '';
    await api.voice.send(
      new PutVoiceConnectorOriginationCommand({
        VoiceConnectorId: vc,
        Origination: {
          Routes: [
            { Host: 'pbx.example.net', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 1 },
            { Host: 'pbx.test', Port: port, Protocol: 'UDP', Priority: 2, Weight: 1 },
          ],
          Disabled: false,
        },
      }),
    );
    await t.server.snapshots?.refresh();
  });

  afterAll(async () => {
    api?.voice.destroy();
    pbx.close();
    await t?.close();
  });

  it('a route whose name does not resolve is marked down with no lookup outside the process; a name that resolves is pinged and stays up', async () => {
    const down = await until(async () => (await routeUp(t)).get('pbx.example.net:5060:UDP') === 0, 10_000);
    expect(down).toBe(true);
    // More pings than it takes to go down, each answered: pbx.test is up because it answers.
    const pinged = () => pbx.replies.filter((r) => r.text.startsWith(`OPTIONS sip:pbx.test:${port};transport=udp SIP/2.0`)).length;
    expect(await until(() => Promise.resolve(pinged() >= 4), 10_000)).toBe(true);
    expect((await routeUp(t)).get(`pbx.test:${port}:UDP`)).toBe(1);
    // RFC 3263 §4.2: an explicit port, so A records only; the negative answer is cached, not re-asked each ping.
    expect(t.dns.questions.filter((q) => q.name === 'pbx.example.net')).toEqual([{ type: 'A', name: 'pbx.example.net' }]);
    expect(t.dns.questions).toContainEqual({ type: 'A', name: 'pbx.test' });
    expect(takeSystemDnsViolations()).toEqual([]);
  });
});
