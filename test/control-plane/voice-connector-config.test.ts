import {
  AccessDeniedException,
  BadRequestException,
  CreateVoiceConnectorCommand,
  DeleteVoiceConnectorCommand,
  DeleteVoiceConnectorEmergencyCallingConfigurationCommand,
  DeleteVoiceConnectorOriginationCommand,
  DeleteVoiceConnectorTerminationCommand,
  DeleteVoiceConnectorTerminationCredentialsCommand,
  GetVoiceConnectorEmergencyCallingConfigurationCommand,
  GetVoiceConnectorExternalSystemsConfigurationCommand,
  GetVoiceConnectorLoggingConfigurationCommand,
  GetVoiceConnectorOriginationCommand,
  GetVoiceConnectorProxyCommand,
  GetVoiceConnectorStreamingConfigurationCommand,
  GetVoiceConnectorTerminationCommand,
  GetVoiceConnectorTerminationHealthCommand,
  ListVoiceConnectorTerminationCredentialsCommand,
  NotFoundException,
  PutVoiceConnectorEmergencyCallingConfigurationCommand,
  PutVoiceConnectorExternalSystemsConfigurationCommand,
  PutVoiceConnectorLoggingConfigurationCommand,
  PutVoiceConnectorOriginationCommand,
  PutVoiceConnectorProxyCommand,
  PutVoiceConnectorStreamingConfigurationCommand,
  PutVoiceConnectorTerminationCommand,
  PutVoiceConnectorTerminationCredentialsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ha1 } from '../../control-plane/api/chime/voice-connector-config.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe.each(['sqlite', 'postgres'] as const)('voice connector configuration through the SDK (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  let id: string;
  beforeAll(async () => {
    api = await startChimeApi(backend);
    id = (await api.client().send(new CreateVoiceConnectorCommand({ Name: 'pbx', RequireEncryption: false }))).VoiceConnector?.VoiceConnectorId as string;
  });
  afterAll(async () => {
    await api.close();
  });

  it('termination: put, get, validation, delete; credentials stored as digest hashes and never returned', async () => {
    const c = api.client();
    await expect(c.send(new GetVoiceConnectorTerminationCommand({ VoiceConnectorId: id }))).rejects.toBeInstanceOf(NotFoundException);
    const put = await c.send(
      new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: id, Termination: { CallingRegions: ['US', 'CA'], CidrAllowedList: ['198.51.100.0/24'], CpsLimit: 5, DefaultPhoneNumber: '+12065550100', Disabled: false } }),
    );
    expect(put.Termination).toEqual({ CallingRegions: ['US', 'CA'], CidrAllowedList: ['198.51.100.0/24'], CpsLimit: 5, DefaultPhoneNumber: '+12065550100', Disabled: false });
    expect((await c.send(new GetVoiceConnectorTerminationCommand({ VoiceConnectorId: id }))).Termination?.CpsLimit).toBe(5);
    for (const bad of [{ CallingRegions: ['usa'] }, { CallingRegions: ['US'], CidrAllowedList: ['10.0.0.0/33'] }, { CallingRegions: ['US'], CpsLimit: 0 }, { CidrAllowedList: ['10.0.0.0/8'] }, { CallingRegions: ['US'], DefaultPhoneNumber: 'abc' }]) {
      await expect(c.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: id, Termination: bad }))).rejects.toBeInstanceOf(BadRequestException);
    }
    await c.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Credentials: [{ Username: 'pbx1', Password: 's3cret' }, { Username: 'pbx2', Password: 'other' }] }));
    expect((await c.send(new ListVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id }))).Usernames).toEqual(['pbx1', 'pbx2']);
    const row = await api.store.db.selectFrom('termination_credentials').selectAll().where('username', '=', 'pbx1').executeTakeFirstOrThrow();
    expect(row.ha1_md5).toBe(ha1('md5', 'pbx1', `${id}.voiceconnector.carillon.test`, 's3cret'));
    expect(JSON.stringify(row)).not.toContain('s3cret');
    await c.send(new DeleteVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Usernames: ['pbx1'] }));
    expect((await c.send(new ListVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id }))).Usernames).toEqual(['pbx2']);
    expect((await c.send(new GetVoiceConnectorTerminationHealthCommand({ VoiceConnectorId: id }))).TerminationHealth).toEqual({});
    await c.send(new DeleteVoiceConnectorTerminationCommand({ VoiceConnectorId: id }));
    await expect(c.send(new GetVoiceConnectorTerminationCommand({ VoiceConnectorId: id }))).rejects.toBeInstanceOf(NotFoundException);
    // A read-only key may read but not write credentials.
    await expect(api.client(api.readOnly).send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Credentials: [] }))).rejects.toBeInstanceOf(AccessDeniedException);
    await expect(api.client(api.readOnly).send(new ListVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id }))).resolves.toBeDefined();
  });

  it('origination, streaming, logging, emergency calling, proxy and external systems round-trip and validate', async () => {
    const c = api.client();
    const routes = [
      { Host: '192.0.2.10', Port: 5060, Protocol: 'UDP' as const, Priority: 1, Weight: 10 },
      { Host: 'pbx.example.net', Protocol: 'TCP' as const, Priority: 2, Weight: 5 },
    ];
    const o = await c.send(new PutVoiceConnectorOriginationCommand({ VoiceConnectorId: id, Origination: { Routes: routes, Disabled: false } }));
    expect(o.Origination?.Routes?.[1]).toEqual({ Host: 'pbx.example.net', Port: 5060, Protocol: 'TCP', Priority: 2, Weight: 5 });
    expect((await c.send(new GetVoiceConnectorOriginationCommand({ VoiceConnectorId: id }))).Origination?.Routes).toHaveLength(2);
    await expect(c.send(new PutVoiceConnectorOriginationCommand({ VoiceConnectorId: id, Origination: {} }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new PutVoiceConnectorOriginationCommand({ VoiceConnectorId: id, Origination: { Routes: [{ Host: 'x', Priority: 0 }] } }))).rejects.toBeInstanceOf(BadRequestException);
    await c.send(new DeleteVoiceConnectorOriginationCommand({ VoiceConnectorId: id }));

    const s = await c.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: id, StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'EventBridge' }] } }));
    expect(s.StreamingConfiguration).toEqual({ DataRetentionInHours: 24, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'EventBridge' }] });
    expect((await c.send(new GetVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: id }))).StreamingConfiguration?.DataRetentionInHours).toBe(24);
    await expect(c.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: id, StreamingConfiguration: { DataRetentionInHours: -1, Disabled: false } }))).rejects.toBeInstanceOf(BadRequestException);

    expect((await c.send(new GetVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: id }))).LoggingConfiguration).toEqual({ EnableSIPLogs: false, EnableMediaMetricLogs: false });
    await c.send(new PutVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: id, LoggingConfiguration: { EnableSIPLogs: true, EnableMediaMetricLogs: true } }));
    expect((await c.send(new GetVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: id }))).LoggingConfiguration).toEqual({ EnableSIPLogs: true, EnableMediaMetricLogs: true });

    const dnis = [{ EmergencyPhoneNumber: '+12065550911', TestPhoneNumber: '+12065550933', CallingCountry: 'US' }];
    expect((await c.send(new PutVoiceConnectorEmergencyCallingConfigurationCommand({ VoiceConnectorId: id, EmergencyCallingConfiguration: { DNIS: dnis } }))).EmergencyCallingConfiguration?.DNIS).toEqual(dnis);
    expect((await c.send(new GetVoiceConnectorEmergencyCallingConfigurationCommand({ VoiceConnectorId: id }))).EmergencyCallingConfiguration?.DNIS).toEqual(dnis);
    await expect(c.send(new PutVoiceConnectorEmergencyCallingConfigurationCommand({ VoiceConnectorId: id, EmergencyCallingConfiguration: { DNIS: [{ EmergencyPhoneNumber: '911', CallingCountry: 'usa' }] } }))).rejects.toBeInstanceOf(BadRequestException);
    await c.send(new DeleteVoiceConnectorEmergencyCallingConfigurationCommand({ VoiceConnectorId: id }));

    const p = await c.send(new PutVoiceConnectorProxyCommand({ VoiceConnectorId: id, DefaultSessionExpiryMinutes: 60, PhoneNumberPoolCountries: ['US'], Disabled: false }));
    expect(p.Proxy).toEqual({ DefaultSessionExpiryMinutes: 60, PhoneNumberCountries: ['US'], Disabled: false });
    expect((await c.send(new GetVoiceConnectorProxyCommand({ VoiceConnectorId: id }))).Proxy?.PhoneNumberCountries).toEqual(['US']);

    const e = await c.send(new PutVoiceConnectorExternalSystemsConfigurationCommand({ VoiceConnectorId: id, SessionBorderControllerTypes: ['RIBBON_SBC'], ContactCenterSystemTypes: ['AVAYA_AURA_CONTACT_CENTER'] }));
    expect(e.ExternalSystemsConfiguration).toEqual({ SessionBorderControllerTypes: ['RIBBON_SBC'], ContactCenterSystemTypes: ['AVAYA_AURA_CONTACT_CENTER'] });
    expect((await c.send(new GetVoiceConnectorExternalSystemsConfigurationCommand({ VoiceConnectorId: id }))).ExternalSystemsConfiguration?.SessionBorderControllerTypes).toEqual(['RIBBON_SBC']);
    await expect(c.send(new PutVoiceConnectorExternalSystemsConfigurationCommand({ VoiceConnectorId: id, SessionBorderControllerTypes: ['SOMETHING' as 'RIBBON_SBC'] }))).rejects.toBeInstanceOf(BadRequestException);

    // Everything of a deleted connector goes with it; a missing connector is 404 everywhere.
    await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: id }));
    await expect(c.send(new GetVoiceConnectorProxyCommand({ VoiceConnectorId: id }))).rejects.toBeInstanceOf(NotFoundException);
    const left = await api.store.db.selectFrom('voice_connector_documents').select('kind').where('voice_connector_id', '=', id).execute();
    expect(left).toEqual([]);
  });
});
