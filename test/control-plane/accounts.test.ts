import {
  AssociatePhoneNumberWithUserCommand,
  AssociateSigninDelegateGroupsWithAccountCommand,
  BadRequestException,
  BatchSuspendUserCommand,
  BatchUnsuspendUserCommand,
  BatchUpdateUserCommand,
  ConflictException,
  CreateAccountCommand,
  CreateUserCommand,
  DeleteAccountCommand,
  DisassociatePhoneNumberFromUserCommand,
  DisassociateSigninDelegateGroupsFromAccountCommand,
  GetAccountCommand,
  GetAccountSettingsCommand,
  GetUserCommand,
  GetUserSettingsCommand,
  InviteUsersCommand,
  ListUsersCommand,
  LogoutUserCommand,
  NotFoundException,
  paginateListAccounts,
  ResetPersonalPINCommand,
  UnprocessableEntityException,
  UpdateAccountCommand,
  UpdateAccountSettingsCommand,
  UpdateUserCommand,
  UpdateUserSettingsCommand,
} from '@aws-sdk/client-chime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe.each(['sqlite', 'postgres'] as const)('legacy chime accounts and users through @aws-sdk/client-chime (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi(backend);
  });
  afterAll(async () => {
    await api.close();
  });

  it('Team accounts: create, rename, settings, invite, users, PIN, logout, remove, delete', async () => {
    const c = api.legacyClient();
    const acct = (await c.send(new CreateAccountCommand({ Name: 'Example Corp' }))).Account;
    expect(acct).toMatchObject({ AccountType: 'Team', AccountStatus: 'Active', AwsAccountId: '000000000000', DefaultLicense: 'Pro' });
    const id = acct?.AccountId as string;
    expect((await c.send(new UpdateAccountCommand({ AccountId: id, Name: 'Example Inc', DefaultLicense: 'Basic' }))).Account).toMatchObject({ Name: 'Example Inc', DefaultLicense: 'Basic' });
    await c.send(new UpdateAccountSettingsCommand({ AccountId: id, AccountSettings: { EnableDialOut: true } }));
    expect((await c.send(new GetAccountSettingsCommand({ AccountId: id }))).AccountSettings).toEqual({ DisableRemoteControl: false, EnableDialOut: true });
    const inv = await c.send(new InviteUsersCommand({ AccountId: id, UserEmailList: ['ann@example.com', 'bob@example.com'] }));
    expect(inv.Invites?.map((i) => [i.EmailAddress, i.Status])).toEqual([['ann@example.com', 'Pending'], ['bob@example.com', 'Pending']]);
    await expect(c.send(new InviteUsersCommand({ AccountId: id, UserEmailList: ['not-an-email'] }))).rejects.toBeInstanceOf(BadRequestException);
    const users = (await c.send(new ListUsersCommand({ AccountId: id }))).Users ?? [];
    expect(users).toHaveLength(2);
    const ann = users.find((u) => u.PrimaryEmail === 'ann@example.com');
    expect(ann?.PersonalPIN).toMatch(/^\d{10}$/);
    expect(ann?.LicenseType).toBe('Basic');
    const reset = await c.send(new ResetPersonalPINCommand({ AccountId: id, UserId: ann?.UserId }));
    expect(reset.User?.PersonalPIN).toMatch(/^\d{10}$/);
    expect(reset.User?.PersonalPIN).not.toBe(ann?.PersonalPIN);
    expect((await c.send(new LogoutUserCommand({ AccountId: id, UserId: ann?.UserId }))).$metadata.httpStatusCode).toBe(204);
    expect((await c.send(new UpdateUserCommand({ AccountId: id, UserId: ann?.UserId, LicenseType: 'Pro' }))).User?.LicenseType).toBe('Pro');
    const bu = await c.send(new BatchUpdateUserCommand({ AccountId: id, UpdateUserRequestItems: [{ UserId: ann?.UserId, LicenseType: 'Basic' }, { UserId: 'nobody', LicenseType: 'Pro' }] }));
    expect(bu.UserErrors).toEqual([expect.objectContaining({ UserId: 'nobody', ErrorCode: 'NotFound' })]);
    await c.send(new UpdateUserSettingsCommand({ AccountId: id, UserId: ann?.UserId, UserSettings: { Telephony: { InboundCalling: true, OutboundCalling: false, SMS: false } } }));
    expect((await c.send(new GetUserSettingsCommand({ AccountId: id, UserId: ann?.UserId }))).UserSettings?.Telephony).toEqual({ InboundCalling: true, OutboundCalling: false, SMS: false });
    // Team rules: unsuspend is Enterprise-only; delete needs every user gone; suspend removes them.
    await expect(c.send(new BatchUnsuspendUserCommand({ AccountId: id, UserIdList: [ann?.UserId as string] }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new DeleteAccountCommand({ AccountId: id }))).rejects.toBeInstanceOf(UnprocessableEntityException);
    const s = await c.send(new BatchSuspendUserCommand({ AccountId: id, UserIdList: users.map((u) => u.UserId as string) }));
    expect(s.UserErrors).toEqual([]);
    await expect(c.send(new GetUserCommand({ AccountId: id, UserId: ann?.UserId }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await c.send(new DeleteAccountCommand({ AccountId: id }))).$metadata.httpStatusCode).toBe(204);
    await expect(c.send(new GetAccountCommand({ AccountId: id }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('Enterprise accounts: suspend keeps the user as Suspended, unsuspend brings them back; accounts paginate', async () => {
    const c = api.legacyClient();
    const id = (await c.send(new CreateAccountCommand({ Name: 'Big Enterprise' }))).Account?.AccountId as string;
    expect((await api.signedFetch('POST', `/carillon/v1/accounts/${id}/type`, { AccountType: 'EnterpriseLWA' })).status).toBe(200);
    await expect(c.send(new InviteUsersCommand({ AccountId: id, UserEmailList: ['x@example.com'] }))).rejects.toBeInstanceOf(BadRequestException);
    const u = (await c.send(new CreateUserCommand({ AccountId: id, Email: 'eve@example.com', Username: 'eve' }))).User;
    expect(u?.UserRegistrationStatus).toBe('Registered');
    await expect(c.send(new CreateUserCommand({ AccountId: id, Email: 'eve@example.com' }))).rejects.toBeInstanceOf(ConflictException);
    await c.send(new BatchSuspendUserCommand({ AccountId: id, UserIdList: [u?.UserId as string] }));
    expect((await c.send(new GetUserCommand({ AccountId: id, UserId: u?.UserId }))).User?.UserRegistrationStatus).toBe('Suspended');
    await c.send(new BatchUnsuspendUserCommand({ AccountId: id, UserIdList: [u?.UserId as string] }));
    expect((await c.send(new GetUserCommand({ AccountId: id, UserId: u?.UserId }))).User?.UserRegistrationStatus).toBe('Registered');
    for (let i = 0; i < 3; i++) await c.send(new CreateAccountCommand({ Name: `Acct ${i}` }));
    let n = 0;
    for await (const p of paginateListAccounts({ client: c, pageSize: 2 }, {})) n += p.Accounts?.length ?? 0;
    expect(n).toBe(4);
  });

  it('sign-in delegate groups on Enterprise accounts; a user’s own number through Associate/DisassociatePhoneNumberWithUser', async () => {
    const c = api.legacyClient();
    const team = (await c.send(new CreateAccountCommand({ Name: 'Small Team' }))).Account?.AccountId as string;
    await expect(c.send(new AssociateSigninDelegateGroupsWithAccountCommand({ AccountId: team, SigninDelegateGroups: [{ GroupName: 'staff' }] }))).rejects.toBeInstanceOf(BadRequestException);
    const ent = (await c.send(new CreateAccountCommand({ Name: 'Directory Co' }))).Account?.AccountId as string;
    expect((await api.signedFetch('POST', `/carillon/v1/accounts/${ent}/type`, { AccountType: 'EnterpriseDirectory' })).status).toBe(200);
    await c.send(new AssociateSigninDelegateGroupsWithAccountCommand({ AccountId: ent, SigninDelegateGroups: [{ GroupName: 'staff' }, { GroupName: 'contractors' }] }));
    expect((await c.send(new GetAccountCommand({ AccountId: ent }))).Account?.SigninDelegateGroups).toEqual([{ GroupName: 'staff' }, { GroupName: 'contractors' }]);
    await c.send(new DisassociateSigninDelegateGroupsFromAccountCommand({ AccountId: ent, GroupNames: ['staff'] }));
    expect((await c.send(new GetAccountCommand({ AccountId: ent }))).Account?.SigninDelegateGroups).toEqual([{ GroupName: 'contractors' }]);

    const number = '+12065550177';
    expect((await api.signedFetch('POST', '/carillon/v1/phone-number-inventory', { PhoneNumbers: [{ E164PhoneNumber: number, Type: 'Local', Country: 'US' }] })).status).toBe(200);
    expect((await api.signedFetch('POST', '/phone-number-orders', { ProductType: 'VoiceConnector', E164PhoneNumbers: [number] })).status).toBe(201);
    const u = (await c.send(new CreateUserCommand({ AccountId: team, Email: 'desk@example.com' }))).User?.UserId as string;
    await expect(c.send(new AssociatePhoneNumberWithUserCommand({ AccountId: team, UserId: u, E164PhoneNumber: '+12065550100' }))).rejects.toBeInstanceOf(NotFoundException);
    await c.send(new AssociatePhoneNumberWithUserCommand({ AccountId: team, UserId: u, E164PhoneNumber: number }));
    expect((await c.send(new GetUserCommand({ AccountId: team, UserId: u }))).User?.PrimaryProvisionedNumber).toBe(number);
    const assigned = (await (await api.signedFetch('GET', `/phone-numbers/${encodeURIComponent(number)}`)).json()) as { PhoneNumber: { Status: string; Associations: { Name: string; Value: string }[] } };
    expect(assigned.PhoneNumber).toMatchObject({ Status: 'Assigned', Associations: [{ Name: 'UserId', Value: u }] });
    await c.send(new DisassociatePhoneNumberFromUserCommand({ AccountId: team, UserId: u }));
    expect((await c.send(new GetUserCommand({ AccountId: team, UserId: u }))).User?.PrimaryProvisionedNumber).toBeUndefined();
    await expect(c.send(new DisassociatePhoneNumberFromUserCommand({ AccountId: team, UserId: u }))).rejects.toBeInstanceOf(NotFoundException);
  });
});
