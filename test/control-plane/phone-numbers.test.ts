import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  BadRequestException,
  BatchDeletePhoneNumberCommand,
  BatchUpdatePhoneNumberCommand,
  ConflictException,
  CreatePhoneNumberOrderCommand,
  CreateVoiceConnectorCommand,
  DeletePhoneNumberCommand,
  DeleteVoiceConnectorCommand,
  DisassociatePhoneNumbersFromVoiceConnectorCommand,
  GetPhoneNumberCommand,
  GetPhoneNumberOrderCommand,
  GetPhoneNumberSettingsCommand,
  ListPhoneNumbersCommand,
  ListSupportedPhoneNumberCountriesCommand,
  NotFoundException,
  paginateSearchAvailablePhoneNumbers,
  RestorePhoneNumberCommand,
  SearchAvailablePhoneNumbersCommand,
  UpdatePhoneNumberCommand,
  UpdatePhoneNumberSettingsCommand,
  ValidateE911AddressCommand,
  GetGlobalSettingsCommand,
  UpdateGlobalSettingsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../common/clock.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

const DAY = 24 * 3600 * 1000;

describe.each(['sqlite', 'postgres'] as const)('phone numbers under Chime rules, through the SDK (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  let offsetMs = 0;
  const clock: Clock = { nowMs: () => Date.now() + offsetMs, monoMs: () => performance.now() + offsetMs };

  /** The operator's own import route, signed like every route. */
  const importNumbers = (numbers: { E164PhoneNumber: string; Type: string; Country: string; State?: string; City?: string }[]): Promise<Response> =>
    api.signedFetch('POST', '/carillon/v1/phone-number-inventory', { PhoneNumbers: numbers });

  beforeAll(async () => {
    api = await startChimeApi(backend, { clock });
    const res = await importNumbers([
      ...Array.from({ length: 8 }, (_, i) => ({ E164PhoneNumber: `+1206555010${i}`, Type: 'Local', Country: 'US', State: 'WA', City: 'Seattle' })),
      { E164PhoneNumber: '+15035550100', Type: 'Local', Country: 'US', State: 'OR', City: 'Portland' },
      { E164PhoneNumber: '+18885550100', Type: 'TollFree', Country: 'US' },
      { E164PhoneNumber: '+442071838750', Type: 'Local', Country: 'GB', City: 'London' },
    ]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ Imported: 11 });
  });
  afterAll(async () => {
    await api.close();
  });

  it('searches the inventory, orders numbers, and keeps per-number and order status', async () => {
    const c = api.client();
    expect((await c.send(new SearchAvailablePhoneNumbersCommand({ AreaCode: '206', Country: 'US' }))).E164PhoneNumbers).toHaveLength(8);
    expect((await c.send(new SearchAvailablePhoneNumbersCommand({ City: 'Portland' }))).E164PhoneNumbers).toEqual(['+15035550100']);
    expect((await c.send(new SearchAvailablePhoneNumbersCommand({ TollFreePrefix: '888' }))).E164PhoneNumbers).toEqual(['+18885550100']);
    expect((await c.send(new SearchAvailablePhoneNumbersCommand({ Country: 'GB' }))).E164PhoneNumbers).toEqual(['+442071838750']);
    let seen = 0;
    for await (const p of paginateSearchAvailablePhoneNumbers({ client: c, pageSize: 3 }, { State: 'WA' })) seen += p.E164PhoneNumbers?.length ?? 0;
    expect(seen).toBe(8);
    await expect(c.send(new SearchAvailablePhoneNumbersCommand({ TollFreePrefix: '999' }))).rejects.toBeInstanceOf(BadRequestException);
    const order = await c.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: ['+12065550100', '+12065550101', '+19995550100'] }));
    expect(order.$metadata.httpStatusCode).toBe(201);
    expect(order.PhoneNumberOrder).toMatchObject({ Status: 'Partial', OrderType: 'New', ProductType: 'VoiceConnector' });
    expect(order.PhoneNumberOrder?.OrderedPhoneNumbers).toEqual([
      { E164PhoneNumber: '+12065550100', Status: 'Acquired' },
      { E164PhoneNumber: '+12065550101', Status: 'Acquired' },
      { E164PhoneNumber: '+19995550100', Status: 'Failed' },
    ]);
    const got = await c.send(new GetPhoneNumberOrderCommand({ PhoneNumberOrderId: order.PhoneNumberOrder?.PhoneNumberOrderId }));
    expect(got.PhoneNumberOrder?.Status).toBe('Partial');
    const n = await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+12065550100' }));
    expect(n.PhoneNumber).toMatchObject({ E164PhoneNumber: '+12065550100', Status: 'Unassigned', Type: 'Local', Country: 'US', ProductType: 'VoiceConnector', OrderId: order.PhoneNumberOrder?.PhoneNumberOrderId });
    // Ordered numbers are no longer available.
    expect((await c.send(new SearchAvailablePhoneNumbersCommand({ AreaCode: '206' }))).E164PhoneNumbers).toHaveLength(6);
    expect((await c.send(new ListSupportedPhoneNumberCountriesCommand({ ProductType: 'VoiceConnector' }))).PhoneNumberCountries?.map((x) => x.CountryCode)).toEqual(['GB', 'US']);
  });

  it('associates numbers with a voice connector; assigned numbers and their connector cannot be deleted', async () => {
    const c = api.client();
    const vc = (await c.send(new CreateVoiceConnectorCommand({ Name: 'pbx', RequireEncryption: false }))).VoiceConnector?.VoiceConnectorId as string;
    await c.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: ['+12065550102'] }));
    const a = await c.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: vc, E164PhoneNumbers: ['+12065550102', '+12065550107'] }));
    expect(a.PhoneNumberErrors).toEqual([expect.objectContaining({ PhoneNumberId: '+12065550107', ErrorCode: 'NotFound' })]);
    const n = (await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+12065550102' }))).PhoneNumber;
    expect(n?.Status).toBe('Assigned');
    expect(n?.Associations?.[0]).toMatchObject({ Name: 'VoiceConnectorId', Value: vc });
    const listed = await c.send(new ListPhoneNumbersCommand({ FilterName: 'VoiceConnectorId', FilterValue: vc }));
    expect(listed.PhoneNumbers?.map((p) => p.E164PhoneNumber)).toEqual(['+12065550102']);
    await expect(c.send(new DeletePhoneNumberCommand({ PhoneNumberId: '+12065550102' }))).rejects.toBeInstanceOf(BadRequestException);
    const del = await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: vc })).catch((e: unknown) => e);
    expect(del).toBeInstanceOf(ConflictException);
    expect((del as ConflictException).Code).toBe('PhoneNumberAssociationsExist');
    await c.send(new DisassociatePhoneNumbersFromVoiceConnectorCommand({ VoiceConnectorId: vc, E164PhoneNumbers: ['+12065550102'] }));
    expect((await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+12065550102' }))).PhoneNumber?.Status).toBe('Unassigned');
    await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: vc }));
  });

  it('calling names change at most once per 7 days; deleted numbers can be restored for 7 days, then are gone', async () => {
    const c = api.client();
    await c.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: ['+12065550103', '+12065550104', '+12065550105'] }));
    const u = await c.send(new UpdatePhoneNumberCommand({ PhoneNumberId: '+12065550103', CallingName: 'Carillon Inc' }));
    expect(u.PhoneNumber).toMatchObject({ CallingName: 'Carillon Inc', CallingNameStatus: 'UpdateSucceeded' });
    await expect(c.send(new UpdatePhoneNumberCommand({ PhoneNumberId: '+12065550103', CallingName: 'Other Name' }))).rejects.toBeInstanceOf(ConflictException);
    await expect(c.send(new UpdatePhoneNumberCommand({ PhoneNumberId: '+12065550104', CallingName: 'This name is far too long' }))).rejects.toBeInstanceOf(BadRequestException);
    const batch = await c.send(new BatchUpdatePhoneNumberCommand({ UpdatePhoneNumberRequestItems: [{ PhoneNumberId: '+12065550103', CallingName: 'Again' }, { PhoneNumberId: '+12065550104', Name: 'front desk' }] }));
    expect(batch.PhoneNumberErrors).toEqual([expect.objectContaining({ PhoneNumberId: '+12065550103', ErrorCode: 'Conflict' })]);
    await c.send(new UpdatePhoneNumberSettingsCommand({ CallingName: 'Carillon' }));
    expect((await c.send(new GetPhoneNumberSettingsCommand({}))).CallingName).toBe('Carillon');
    await expect(c.send(new UpdatePhoneNumberSettingsCommand({ CallingName: 'Changed' }))).rejects.toBeInstanceOf(ConflictException);
    offsetMs += 7 * DAY + 1000;
    await c.send(new UpdatePhoneNumberCommand({ PhoneNumberId: '+12065550103', CallingName: 'Other Name' }));
    await c.send(new UpdatePhoneNumberSettingsCommand({ CallingName: 'Changed' }));

    await c.send(new DeletePhoneNumberCommand({ PhoneNumberId: '+12065550104' }));
    expect((await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+12065550104' }))).PhoneNumber).toMatchObject({ Status: 'DeleteInProgress', DeletionTimestamp: expect.any(Date) });
    offsetMs += 6 * DAY;
    expect((await c.send(new RestorePhoneNumberCommand({ PhoneNumberId: '+12065550104' }))).PhoneNumber?.Status).toBe('Unassigned');
    const bd = await c.send(new BatchDeletePhoneNumberCommand({ PhoneNumberIds: ['+12065550104', '+12065550105'] }));
    expect(bd.PhoneNumberErrors).toEqual([]);
    offsetMs += 7 * DAY + 1000;
    await expect(c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+12065550104' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new RestorePhoneNumberCommand({ PhoneNumberId: '+12065550105' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('validates E911 addresses: stored and returned normalised when well formed, result 2 when not', async () => {
    const c = api.client();
    const ok = await c.send(new ValidateE911AddressCommand({ AwsAccountId: '000000000000', StreetNumber: '410', StreetInfo: 'Terry Ave N', City: 'Seattle', State: 'wa', Country: 'US', PostalCode: '98109-5210' }));
    expect(ok.$metadata.httpStatusCode).toBe(202);
    expect(ok.ValidationResult).toBe(0);
    expect(ok.AddressExternalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.Address).toMatchObject({ streetNumber: '410', streetName: 'Terry Ave N', state: 'WA', postalCode: '98109', postalCodePlus4: '5210', country: 'US' });
    const bad = await c.send(new ValidateE911AddressCommand({ AwsAccountId: '000000000000', StreetNumber: 'x', StreetInfo: 'Main St', City: 'Nowhere', State: 'Washington', Country: 'US', PostalCode: '9810' }));
    expect(bad.ValidationResult).toBe(2);
    await expect(c.send(new ValidateE911AddressCommand({ AwsAccountId: '000000000000', StreetNumber: '1', StreetInfo: 'Main St', City: 'X', State: 'WA', Country: 'US' } as never))).rejects.toBeInstanceOf(BadRequestException);
  });

  it('keeps the account-wide voice connector CDR bucket', async () => {
    const c = api.client();
    expect((await c.send(new GetGlobalSettingsCommand({}))).VoiceConnector).toEqual({});
    await c.send(new UpdateGlobalSettingsCommand({ VoiceConnector: { CdrBucket: 'carillon-cdrs' } }));
    expect((await c.send(new GetGlobalSettingsCommand({}))).VoiceConnector).toEqual({ CdrBucket: 'carillon-cdrs' });
    await expect(c.send(new UpdateGlobalSettingsCommand({ VoiceConnector: { CdrBucket: 'Bad Bucket!' } }))).rejects.toBeInstanceOf(BadRequestException);
  });

  it('port-in orders advance through the Chime statuses by admin routes; the port-out PIN is 4–10 alphanumerics', async () => {
    const c = api.client();
    const created = await api.signedFetch('POST', '/carillon/v1/port-in-orders', { E164PhoneNumbers: ['+13125550100', '+18005550199'] });
    expect(created.status).toBe(201);
    const orderId = ((await created.json()) as { PhoneNumberOrder: { PhoneNumberOrderId: string } }).PhoneNumberOrder.PhoneNumberOrderId;
    expect((await c.send(new GetPhoneNumberOrderCommand({ PhoneNumberOrderId: orderId }))).PhoneNumberOrder).toMatchObject({ OrderType: 'Porting', Status: 'Submitted' });
    expect((await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+18005550199' }))).PhoneNumber).toMatchObject({ Status: 'PortinInProgress', Type: 'TollFree', Country: 'US' });
    const step = async (Status: string): Promise<number> => (await api.signedFetch('POST', `/carillon/v1/port-in-orders/${orderId}/status`, { Status })).status;
    expect(await step('Successful')).toBe(400);
    for (const s of ['PendingDocuments', 'FOC', 'Successful']) expect(await step(s)).toBe(200);
    expect((await c.send(new GetPhoneNumberOrderCommand({ PhoneNumberOrderId: orderId }))).PhoneNumberOrder?.OrderedPhoneNumbers).toEqual([
      { E164PhoneNumber: '+13125550100', Status: 'Acquired' },
      { E164PhoneNumber: '+18005550199', Status: 'Acquired' },
    ]);
    expect((await c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+13125550100' }))).PhoneNumber?.Status).toBe('Unassigned');
    expect(await step('Cancelled')).toBe(400);
    // A cancelled port leaves nothing behind.
    const other = (await (await api.signedFetch('POST', '/carillon/v1/port-in-orders', { E164PhoneNumbers: ['+13125550101'] })).json()) as { PhoneNumberOrder: { PhoneNumberOrderId: string } };
    for (const s of ['CancelRequested', 'Cancelled']) expect((await api.signedFetch('POST', `/carillon/v1/port-in-orders/${other.PhoneNumberOrder.PhoneNumberOrderId}/status`, { Status: s })).status).toBe(200);
    await expect(c.send(new GetPhoneNumberCommand({ PhoneNumberId: '+13125550101' }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await api.signedFetch('PUT', '/carillon/v1/port-out-pin', { Pin: '12ab' })).status).toBe(204);
    expect(await (await api.signedFetch('GET', '/carillon/v1/port-out-pin')).json()).toMatchObject({ Pin: '12ab' });
    for (const bad of ['123', '12345678901', '12-45']) expect((await api.signedFetch('PUT', '/carillon/v1/port-out-pin', { Pin: bad })).status).toBe(400);
  });
});
