import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import { configFromEnv, configFromFlags, readConfigFile, resolveConfig } from '../../cli/config.ts';
import { createServer } from '../../cli/server.ts';

describe('config', () => {
  it('names each fault once, with what is allowed and the flag that sets it', () => {
    const message = (layer: Record<string, unknown>): string => {
      try {
        resolveConfig(layer);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      return expect.unreachable();
    };
    const loud = message({ logLevel: 'loud' });
    expect(loud).toContain('/logLevel (--log-level) must be one of: fatal, error, warn, info, debug, trace, silent (given "loud")');
    expect(loud.match(/logLevel/g)).toHaveLength(1);
    const two = message({ logLevel: 'loud', media: { relay: 'x' }, sipUdp: 'abc' });
    expect(two.split('; ')).toHaveLength(3);
    expect(two).toContain('/media/relay must be one of: native, sockets');
    expect(message({ rtpRange: '5-3' })).toContain('/rtpRange (--rtp-range) 5-3 is reversed or empty: LOW must be below HIGH (e.g. 3-5)');
    expect(message({ h323RtpRange: '7000-6000' })).toContain('/h323RtpRange (--h323-rtp-range) 7000-6000 is reversed or empty');
    expect(message({ rtpRange: '5000-9000' })).toContain('/h323RtpRange (--h323-rtp-range) 5100-6200 overlaps /rtpRange (--rtp-range) 5000-9000');
  });

  it('reads each static route target into its next hop once; a target no hop can hold is a fault at start', () => {
    const c = resolveConfig({ routes: [{ match: { userPrefix: '+1' }, target: 'sip:127.0.0.1:5080;transport=udp' }, { match: {}, target: 'sips:pbx.example.com' }] });
    expect(c.staticRoutes).toEqual([
      { match: { userPrefix: '+1' }, hop: { transport: 'udp', host: '127.0.0.1', port: 5080, user: undefined, headers: [] } },
      { match: {}, hop: { transport: 'tls', host: 'pbx.example.com', port: undefined, user: undefined, headers: [] } },
    ]);
    expect(() => resolveConfig({ routes: [{ match: {}, target: 'sip:127.0.0.1;maddr=10.0.0.1' }] })).toThrow(ConfigError);
    expect(() => resolveConfig({ routes: [{ match: {}, target: 'sip:127.0.0.1;maddr=10.0.0.1' }] })).toThrow('/routes/0/target "sip:127.0.0.1;maddr=10.0.0.1" may hold only user, host, port and ;transport=');
    expect(() => resolveConfig({ routes: [{ match: {}, target: 'sip:h' }, { match: {}, target: 'sip:h;transport=sctp' }] })).toThrow('/routes/1/target');
  });

  it('fills every default', () => {
    const c = resolveConfig({});
    expect(c.sipUdp).toBe(5060);
    expect(c.sipTls).toBe(5061);
    expect(c.api).toBe(8080);
    expect(c.rtpLow).toBe(10000);
    expect(c.rtpHigh).toBe(60000);
    expect([c.h323, c.h323RtpLow, c.h323RtpHigh]).toEqual([1720, 5100, 6200]);
    expect(c.sip.t1Ms).toBe(500);
    expect(c.sip.sessionExpiresSec).toBe(1800);
    expect(c.routes).toEqual([]);
  });

  it('limits guessing of termination credentials by default: 5 failures per source or 10 per voice connector in 60 s, banned 300 s', () => {
    const c = resolveConfig({});
    expect([c.sip.authFailuresPerSource, c.sip.authFailuresPerVoiceConnector, c.sip.authFailureWindowSec, c.sip.authBanSec]).toEqual([5, 10, 60, 300]);
    expect(resolveConfig({ sip: { authFailuresPerSource: 0, authBanSec: 3600 } }).sip).toMatchObject({ authFailuresPerSource: 0, authBanSec: 3600, authFailuresPerVoiceConnector: 10 });
  });

  it('layers file < env < flags', () => {
    const c = resolveConfig(
      { sipUdp: 1, bind: '127.0.0.1', sip: { t1Ms: 100 } },
      configFromEnv({ CARILLON_SIP_UDP: '2', CARILLON_API: '0' }),
      configFromFlags({ 'sip-udp': '3' }),
    );
    expect(c.sipUdp).toBe(3);
    expect(c.api).toBe(0);
    expect(c.bind).toBe('127.0.0.1');
    expect(c.advertisedAddress).toBe('127.0.0.1');
    expect(c.sip.t1Ms).toBe(100);
    expect(c.sip.t2Ms).toBe(4000);
  });

  it('reads YAML files with routes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cfg-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'sipUdp: 0\nroutes:\n  - match: { userPrefix: "+1206" }\n    target: "sip:127.0.0.1:5080;transport=udp"\n');
    const c = resolveConfig(readConfigFile(file));
    expect(c.routes).toEqual([{ match: { userPrefix: '+1206' }, target: 'sip:127.0.0.1:5080;transport=udp' }]);
  });

  it.each([
    [{ sipUdp: 70000 }, '/sipUdp'],
    [{ unknownKey: 1 }, '/unknownKey is not a setting'],
    [{ rtpRange: '5000-4000' }, 'rtpRange'],
    [{ routes: [{ match: {}, target: 'http://x' }] }, '/routes/0/target'],
    [{ sip: { t1Ms: 1000, t2Ms: 500 } }, 't2Ms'],
    [{ tlsCert: '/x' }, 'tlsCert'],
    [{ rtpRange: '5-3' }, 'reversed'],
    [{ sip: { authBanSec: 0 } }, 'authBanSec'],
    [{ sip: { authFailuresPerSource: -1 } }, 'authFailuresPerSource'],
    [{ dnsServers: ['dns.example'] }, '/dnsServers/0'],
    [{ dnsServers: [] }, '/dnsServers'],
  ])('rejects bad config %j with ConfigError', (layer, hint) => {
    try {
      resolveConfig(layer as Record<string, unknown>);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('CONFIG_INVALID');
      expect((err as ConfigError).message).toContain(hint);
    }
  });

  it('takes DNS servers as addresses with optional ports; one node:dns refuses fails at boot', () => {
    expect(resolveConfig({ dnsServers: ['127.0.0.53', '127.0.0.1:5353', '::1', '[::1]:53'] }).dnsServers).toEqual(['127.0.0.53', '127.0.0.1:5353', '::1', '[::1]:53']);
    const data = mkdtempSync(path.join(os.tmpdir(), 'carillon-cfg-'));
    try {
      createServer({ data, api: -1, logLevel: 'silent', dnsServers: ['999.1.1.1'] });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    }
  });

  it('rejects an unreadable or non-object file', () => {
    expect(() => readConfigFile('/nonexistent/carillon.yaml')).toThrow(ConfigError);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cfg-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, '- 1\n- 2\n');
    expect(() => readConfigFile(file)).toThrow(ConfigError);
  });
});
