import { readFileSync } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MediaQualityRecord } from '../../media/quality/record.ts';
import { CallEvents } from '../../signaling/calls/call-events.ts';
import { addVoiceConnectorMediaMetrics, addVoiceConnectorMetrics, VoiceConnectorSeries } from '../../metrics/voice-connector-metrics.ts';

describe('voice connector series from the first scrape', () => {
  it('every configured voice connector has its failure, throttle, loss and RTT series at 0 before any event, and is named in carillon_voice_connector_info', async () => {
    const registry = new client.Registry();
    const configured = [
      { voice_connector_id: 'abcdefghijklmnopqrstuv', region: 'us-east-1' },
      { voice_connector_id: 'inboundonly00000000000', region: 'eu-west-2' },
    ];
    const series = new VoiceConnectorSeries(registry, () => configured);
    const events = new CallEvents(() => undefined);
    addVoiceConnectorMetrics(registry, events, series);
    const listeners: ((r: MediaQualityRecord) => void)[] = [];
    addVoiceConnectorMediaMetrics(registry, (l) => listeners.push(l), series);
    const text = await registry.metrics();
    for (const { voice_connector_id: id, region } of configured) {
      const l = `voice_connector_id="${id}",region="${region}"`;
      expect(text).toContain(`carillon_voice_connector_info{${l}} 1`);
      for (const m of ['inbound_call_failures_total', 'outbound_call_failures_total', 'inbound_call_attempts_total', 'throttles_total', 'inbound_calls_active']) expect(text).toContain(`carillon_voice_connector_${m}{${l}} 0`);
      expect(text).toContain(`carillon_voice_connector_sip_responses_total{${l},class="5xx"} 0`);
      expect(text).toContain(`carillon_voice_connector_packets_lost_total{${l},direction="customer_to_vc"} 0`);
      expect(text).toContain(`carillon_voice_connector_rtt_seconds_count{${l},side="remote"} 0`);
      expect(text).toContain(`carillon_voice_connector_jitter_seconds_count{${l},direction="vc_to_remote"} 0`);
    }
  });

  it('zeroing happens once: what is observed later is kept across scrapes', async () => {
    const registry = new client.Registry();
    const series = new VoiceConnectorSeries(registry, () => [{ voice_connector_id: 'abcdefghijklmnopqrstuv', region: 'us-east-1' }]);
    const listeners: ((r: MediaQualityRecord) => void)[] = [];
    addVoiceConnectorMediaMetrics(registry, (l) => listeners.push(l), series);
    await registry.metrics();
    const record = { voice_connector_id: 'abcdefghijklmnopqrstuv', aws_region: 'us-east-1', rtt_btwn_vc_and_cust: 20_000, mos_btwn_vc_and_cust: 4.3 } as unknown as MediaQualityRecord;
    for (const l of listeners) l(new Proxy(record, { get: (t, k) => (k in t ? t[k as keyof typeof t] : k.toString().endsWith('_jitter') || k.toString().endsWith('_lost') ? null : 0) }));
    await registry.metrics();
    const text = await registry.metrics();
    expect(text).toContain('carillon_voice_connector_rtt_seconds_count{voice_connector_id="abcdefghijklmnopqrstuv",region="us-east-1",side="customer"} 1');
  });

  it('the dashboard picks voice connectors from carillon_voice_connector_info (inbound-only ones too)', () => {
    const dash = readFileSync(path.join(import.meta.dirname, '../../metrics/grafana-dashboard.json'), 'utf8');
    expect(dash).toContain('label_values(carillon_voice_connector_info, voice_connector_id)');
    expect(dash).not.toContain('label_values(carillon_voice_connector_outbound_call_attempts_total');
  });
});
