import crypto from 'node:crypto';
import Type from 'typebox';
import type { AccountTable, UserTable } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { ALLOCATION_TRIES } from '../meetings/ids.ts';
import { E164, normalizeE164 } from './phone-numbers.ts';
import type { Association } from './phone-numbers.ts';
import type { ChimeApiDeps } from './deps.ts';
import { listPage, decodeToken } from './paging.ts';
import { Labels, NON_BLANK, Paging, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * The legacy `chime` accounts and users (SPEC.md §6; reference §3), served under `/chime` so the
 * `@aws-sdk/client-chime` client works with `endpoint: "http://host:port/chime"`. Team accounts
 * are created here; Enterprise rules (suspend/unsuspend) apply to accounts an admin marked as
 * Enterprise (`POST /carillon/v1/accounts/{id}/type`).
 */
const LICENSES = ['Basic', 'Plus', 'Pro', 'ProTrial'] as const;
const USER_TYPES = ['PrivateUser', 'SharedDevice'] as const;
const ACCOUNT_TYPES = ['Team', 'EnterpriseDirectory', 'EnterpriseLWA', 'EnterpriseOIDC'] as const;
const Email = Str(3, 256, '^.+@.+\\..+$');
const AccountLabel = Labels('accountId');
const UserLabels = Labels('accountId', 'userId');
const AccountName = Str(1, 100, NON_BLANK);
const License = Type.Enum([...LICENSES]);
const UserType = Type.Enum([...USER_TYPES]);
const UserIdList = Type.Object({ UserIdList: Type.Array(Str(1, 64, NON_BLANK), { maxItems: 50 }) });
const Schemas = {
  createAccount: Type.Object({ Name: AccountName }),
  listAccounts: Type.Object({ name: Type.Optional(Str(1, 100)), 'user-email': Type.Optional(Type.String()), ...Paging(200) }),
  updateAccount: Type.Object({ Name: Type.Optional(AccountName), DefaultLicense: Type.Optional(License) }),
  accountSettings: Type.Object({ AccountSettings: Type.Object({ DisableRemoteControl: Type.Optional(Type.Boolean()), EnableDialOut: Type.Optional(Type.Boolean()) }) }),
  signinGroups: Type.Object({ SigninDelegateGroups: Type.Array(Type.Object({ GroupName: Type.Optional(Str(0, 256, NON_BLANK)) }), { minItems: 1 }) }),
  signinGroupNames: Type.Object({ GroupNames: Type.Array(Str(1, 256, NON_BLANK), { minItems: 1 }) }),
  inviteUsers: Type.Object({ UserEmailList: Type.Array(Email, { maxItems: 50 }), UserType: Type.Optional(UserType) }),
  createUser: Type.Object({ Email, Username: Type.Optional(Str(1, 256)), UserType: Type.Optional(UserType) }),
  batchUpdateUser: Type.Object({ UpdateUserRequestItems: Type.Array(Type.Object({ UserId: Str(1, 64, NON_BLANK), LicenseType: Type.Optional(License), UserType: Type.Optional(UserType) }), { maxItems: 20 }) }),
  listUsers: Type.Object({ 'user-email': Type.Optional(Type.String()), 'user-type': Type.Optional(UserType), ...Paging(200) }),
  updateUser: Type.Object({ LicenseType: Type.Optional(License), UserType: Type.Optional(UserType) }),
  userPhoneNumber: Type.Object({ E164PhoneNumber: Str(2, 16, NON_BLANK) }),
  userSettings: Type.Object({ UserSettings: Type.Object({ Telephony: Type.Object({ InboundCalling: Type.Boolean(), OutboundCalling: Type.Boolean(), SMS: Type.Boolean() }) }) }),
  accountType: Type.Object({ AccountType: Type.Enum([...ACCOUNT_TYPES]) }),
};

function accountWire(deps: ChimeApiDeps, a: AccountTable, groups: readonly { GroupName: string }[] = []): Record<string, unknown> {
  return {
    AwsAccountId: deps.accountId,
    AccountId: a.id,
    Name: a.name,
    AccountType: a.type,
    CreatedTimestamp: a.created_at,
    DefaultLicense: a.default_license,
    SupportedLicenses: ['Basic', 'Pro'],
    AccountStatus: a.status,
    SigninDelegateGroups: groups,
  };
}

function userWire(u: UserTable, number?: string): Record<string, unknown> {
  return {
    ...(number === undefined ? {} : { PrimaryProvisionedNumber: number }),
    UserId: u.id,
    AccountId: u.account_id,
    PrimaryEmail: u.email,
    ...(u.display_name === null ? {} : { DisplayName: u.display_name }),
    LicenseType: u.license,
    UserType: u.user_type,
    UserRegistrationStatus: u.registration_status,
    UserInvitationStatus: u.invitation_status,
    ...(u.registered_at === null ? {} : { RegisteredOn: u.registered_at }),
    InvitedOn: u.invited_at,
    PersonalPIN: u.pin,
  };
}

const pin = (): string => String(crypto.randomInt(0, 10_000_000_000)).padStart(10, '0');

export function registerAccountRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const account = async (params: { accountId: string }): Promise<AccountTable> => {
    const id = params.accountId;
    const a = await db.selectFrom('accounts').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (a === undefined) throw notFound(`Account ${id} not found`);
    return a;
  };
  const user = async (a: AccountTable, params: { userId: string }): Promise<UserTable> => {
    const id = params.userId;
    const u = await db.selectFrom('users').selectAll().where('id', '=', id).where('account_id', '=', a.id).executeTakeFirst();
    if (u === undefined) throw notFound(`User ${id} not found in account ${a.id}`);
    return u;
  };
  /** A personal PIN no other user and no meeting has (it is the ID of the user's personal meeting room). */
  const freePin = async (): Promise<string> => {
    for (let i = 0; i < ALLOCATION_TRIES; i++) {
      const p = pin();
      const [u, m] = await Promise.all([db.selectFrom('users').select('id').where('pin', '=', p).executeTakeFirst(), db.selectFrom('meetings').select('id').where('meeting_pin', '=', p).executeTakeFirst()]);
      if (u === undefined && m === undefined) return p;
    }
    throw new ChimeError('ServiceFailureException', 'No free personal PIN could be allocated; retry');
  };
  const enterprise = (a: AccountTable): boolean => a.type !== 'Team';
  const groupsKey = (a: AccountTable): string => `signin-delegate-groups:${a.id}`;
  const groupsOf = async (a: AccountTable): Promise<{ GroupName: string }[]> => {
    const r = await db.selectFrom('settings').select('value').where('key', '=', groupsKey(a)).executeTakeFirst();
    return r === undefined ? [] : (JSON.parse(r.value) as { GroupName: string }[]);
  };
  const accountOut = async (a: AccountTable): Promise<Record<string, unknown>> => accountWire(deps, a, await groupsOf(a));
  /** The number associated with a user (AssociatePhoneNumberWithUser), shown as PrimaryProvisionedNumber. */
  const numberOf = async (u: UserTable): Promise<string | undefined> => {
    const rows = await db.selectFrom('phone_numbers').select(['e164', 'associations']).where('status', '=', 'Assigned').execute();
    return rows.find((r) => (JSON.parse(r.associations) as Association[]).some((x) => x.Name === 'UserId' && x.Value === u.id))?.e164;
  };
  const userOut = async (u: UserTable): Promise<Record<string, unknown>> => userWire(u, await numberOf(u));

  app.post('/accounts', { config: { action: 'chime:CreateAccount' }, schema: { body: Schemas.createAccount } }, async (req, reply) => {
    const name = req.body.Name;
    const row: AccountTable = { id: crypto.randomUUID(), name, type: 'Team', status: 'Active', default_license: 'Pro', settings: '{}', created_at: now(), deleted_at: null, meeting_language: null };
    await db.insertInto('accounts').values(row).execute();
    return reply.code(201).send({ Account: accountWire(deps, row) });
  });

  app.get('/accounts', { config: { action: 'chime:ListAccounts' }, schema: { querystring: Schemas.listAccounts } }, async (req) => {
    const q = req.query;
    const limit = q['max-results'] ?? 200;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('accounts').selectAll().where('deleted_at', 'is', null).orderBy('id').limit(limit + 1);
    if (q.name !== undefined) query = query.where('name', 'like', `${q.name.replace(/[%_]/g, '')}%`);
    if (q['user-email'] !== undefined) {
      const u = await db.selectFrom('users').select('account_id').where('email', '=', q['user-email']).executeTakeFirst();
      query = query.where('id', '=', u?.account_id ?? '');
    }
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    const groups = new Map<string, { GroupName: string }[]>();
    for (const a of rows.slice(0, limit)) groups.set(a.id, await groupsOf(a));
    return listPage(rows, limit, 'Accounts', (a) => accountWire(deps, a, groups.get(a.id)), (r) => r.id);
  });

  app.get('/accounts/:accountId', { config: { action: 'chime:GetAccount' }, schema: { params: AccountLabel } }, async (req) => ({ Account: await accountOut(await account(req.params)) }));

  app.post('/accounts/:accountId', { config: { action: 'chime:UpdateAccount' }, schema: { params: AccountLabel, body: Schemas.updateAccount } }, async (req) => {
    const a = await account(req.params);
    const name = req.body.Name ?? a.name;
    const license = req.body.DefaultLicense ?? a.default_license;
    await db.updateTable('accounts').set({ name, default_license: license }).where('id', '=', a.id).execute();
    return { Account: await accountOut({ ...a, name, default_license: license }) };
  });

  // Sign-in delegate groups: directory groups whose members get the account's default license (Enterprise accounts).
  const putGroups = async (a: AccountTable, groups: readonly { GroupName: string }[]): Promise<void> => {
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', groupsKey(a)).execute();
      await tx.insertInto('settings').values({ key: groupsKey(a), value: JSON.stringify(groups), updated_at: now() }).execute();
    });
  };
  app.post(
    '/accounts/:accountId',
    { constraints: { operation: 'associate-signin-delegate-groups' }, config: { action: 'chime:AssociateSigninDelegateGroupsWithAccount' }, schema: { params: AccountLabel, body: Schemas.signinGroups } },
    async (req) => {
      const a = await account(req.params);
      if (!enterprise(a)) throw badRequest('Sign-in delegate groups are for Enterprise accounts');
      const groups = await groupsOf(a);
      for (const g of req.body.SigninDelegateGroups) if (g.GroupName !== undefined && !groups.some((x) => x.GroupName === g.GroupName)) groups.push({ GroupName: g.GroupName });
      await putGroups(a, groups);
      return {};
    },
  );
  app.post(
    '/accounts/:accountId',
    { constraints: { operation: 'disassociate-signin-delegate-groups' }, config: { action: 'chime:DisassociateSigninDelegateGroupsFromAccount' }, schema: { params: AccountLabel, body: Schemas.signinGroupNames } },
    async (req) => {
      const a = await account(req.params);
      const drop = new Set(req.body.GroupNames);
      await putGroups(a, (await groupsOf(a)).filter((g) => !drop.has(g.GroupName)));
      return {};
    },
  );

  app.delete('/accounts/:accountId', { config: { action: 'chime:DeleteAccount' }, schema: { params: AccountLabel } }, async (req, reply) => {
    const a = await account(req.params);
    const active = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('registration_status', '!=', 'Suspended').executeTakeFirst();
    if (active !== undefined) throw new ChimeError('UnprocessableEntityException', `Account ${a.id} still has users; suspend or remove them first`);
    await db.updateTable('accounts').set({ deleted_at: now(), status: 'Suspended' }).where('id', '=', a.id).execute();
    return reply.code(204).send();
  });

  app.get('/accounts/:accountId/settings', { config: { action: 'chime:GetAccountSettings' }, schema: { params: AccountLabel } }, async (req) => {
    const a = await account(req.params);
    return { AccountSettings: { DisableRemoteControl: false, EnableDialOut: false, ...(JSON.parse(a.settings) as object) } };
  });

  app.put('/accounts/:accountId/settings', { config: { action: 'chime:UpdateAccountSettings' }, schema: { params: AccountLabel, body: Schemas.accountSettings } }, async (req, reply) => {
    const a = await account(req.params);
    const next = req.body.AccountSettings;
    await db.updateTable('accounts').set({ settings: JSON.stringify({ ...(JSON.parse(a.settings) as object), ...next }) }).where('id', '=', a.id).execute();
    return reply.code(204).send();
  });

  // POST /accounts/{id}/users?operation=add|create|suspend|unsuspend, or none = BatchUpdateUser.
  const usersUrl = '/accounts/:accountId/users';
  app.post(usersUrl, { constraints: { operation: 'add' }, config: { action: 'chime:InviteUsers' }, schema: { params: AccountLabel, body: Schemas.inviteUsers } }, async (req, reply) => {
    const a = await account(req.params);
    if (enterprise(a)) throw badRequest('Users of Enterprise accounts come from the directory; invite is for Team accounts');
    const userType = req.body.UserType ?? 'PrivateUser';
    const invites = [];
    for (const email of req.body.UserEmailList) {
      const existing = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('email', '=', email).executeTakeFirst();
      if (existing === undefined) {
        await db.insertInto('users').values({ id: crypto.randomUUID(), account_id: a.id, email, display_name: null, license: a.default_license, user_type: userType, registration_status: 'Unregistered', invitation_status: 'Pending', invited_at: now(), registered_at: null, pin: await freePin(), settings: '{}' }).execute();
      }
      invites.push({ InviteId: crypto.randomUUID(), Status: 'Pending', EmailAddress: email, EmailStatus: 'NotSent' });
    }
    return reply.code(201).send({ Invites: invites });
  });

  app.post(usersUrl, { constraints: { operation: 'create' }, config: { action: 'chime:CreateUser' }, schema: { params: AccountLabel, body: Schemas.createUser } }, async (req, reply) => {
    const a = await account(req.params);
    const email = req.body.Email;
    const taken = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('email', '=', email).executeTakeFirst();
    if (taken !== undefined) throw new ChimeError('ConflictException', `A user with ${email} exists`);
    const u: UserTable = { id: crypto.randomUUID(), account_id: a.id, email, display_name: req.body.Username ?? null, license: a.default_license, user_type: req.body.UserType ?? 'PrivateUser', registration_status: 'Registered', invitation_status: 'Accepted', invited_at: now(), registered_at: now(), pin: await freePin(), settings: '{}' };
    await db.insertInto('users').values(u).execute();
    return reply.code(201).send({ User: userWire(u) });
  });

  for (const op of ['suspend', 'unsuspend'] as const) {
    app.post(usersUrl, { constraints: { operation: op }, config: { action: op === 'suspend' ? 'chime:BatchSuspendUser' : 'chime:BatchUnsuspendUser' }, schema: { params: AccountLabel, body: UserIdList } }, async (req) => {
      const a = await account(req.params);
      if (op === 'unsuspend' && !enterprise(a)) throw badRequest('BatchUnsuspendUser is for Enterprise accounts');
      const errors: { UserId: string; ErrorCode: string; ErrorMessage: string }[] = [];
      for (const id of req.body.UserIdList) {
        const u = await db.selectFrom('users').selectAll().where('id', '=', id).where('account_id', '=', a.id).executeTakeFirst();
        if (u === undefined) {
          errors.push({ UserId: id, ErrorCode: 'NotFound', ErrorMessage: `User ${id} not found` });
          continue;
        }
        // Team: suspending removes the user from the account (they can be invited again).
        if (op === 'suspend' && !enterprise(a)) await db.deleteFrom('users').where('id', '=', id).execute();
        else if (op === 'suspend') await db.updateTable('users').set({ registration_status: 'Suspended' }).where('id', '=', id).execute();
        else if (u.registration_status === 'Suspended') await db.updateTable('users').set({ registration_status: 'Registered' }).where('id', '=', id).execute();
      }
      return { UserErrors: errors };
    });
  }

  app.post(usersUrl, { config: { action: 'chime:BatchUpdateUser' }, schema: { params: AccountLabel, body: Schemas.batchUpdateUser } }, async (req) => {
    const a = await account(req.params);
    const errors: { UserId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const it of req.body.UpdateUserRequestItems) {
      const set = { ...(it.LicenseType === undefined ? {} : { license: it.LicenseType }), ...(it.UserType === undefined ? {} : { user_type: it.UserType }) };
      const r = Object.keys(set).length === 0 ? undefined : await db.updateTable('users').set(set).where('id', '=', it.UserId).where('account_id', '=', a.id).executeTakeFirst();
      if (r !== undefined && Number(r.numUpdatedRows) === 0) errors.push({ UserId: it.UserId, ErrorCode: 'NotFound', ErrorMessage: `User ${it.UserId} not found` });
    }
    return { UserErrors: errors };
  });

  app.get(usersUrl, { config: { action: 'chime:ListUsers' }, schema: { params: AccountLabel, querystring: Schemas.listUsers } }, async (req) => {
    const a = await account(req.params);
    const q = req.query;
    const limit = q['max-results'] ?? 200;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('users').selectAll().where('account_id', '=', a.id).orderBy('id').limit(limit + 1);
    if (q['user-email'] !== undefined) query = query.where('email', '=', q['user-email']);
    if (q['user-type'] !== undefined) query = query.where('user_type', '=', q['user-type']);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    const numbers = new Map<string, string | undefined>();
    for (const u of rows.slice(0, limit)) numbers.set(u.id, await numberOf(u));
    return listPage(rows, limit, 'Users', (u) => userWire(u, numbers.get(u.id)), (r) => r.id);
  });

  const userUrl = '/accounts/:accountId/users/:userId';
  app.get(userUrl, { config: { action: 'chime:GetUser' }, schema: { params: UserLabels } }, async (req) => ({ User: await userOut(await user(await account(req.params), req.params)) }));

  app.post(userUrl, { config: { action: 'chime:UpdateUser' }, schema: { params: UserLabels, body: Schemas.updateUser } }, async (req) => {
    const u = await user(await account(req.params), req.params);
    const license = req.body.LicenseType ?? u.license;
    const userType = req.body.UserType ?? u.user_type;
    await db.updateTable('users').set({ license, user_type: userType }).where('id', '=', u.id).execute();
    return { User: await userOut({ ...u, license, user_type: userType }) };
  });

  app.post(userUrl, { constraints: { operation: 'reset-personal-pin' }, config: { action: 'chime:ResetPersonalPIN' }, schema: { params: UserLabels } }, async (req) => {
    const u = await user(await account(req.params), req.params);
    const next = await freePin();
    await db.updateTable('users').set({ pin: next }).where('id', '=', u.id).execute();
    return { User: await userOut({ ...u, pin: next }) };
  });

  app.post(userUrl, { constraints: { operation: 'logout' }, config: { action: 'chime:LogoutUser' }, schema: { params: UserLabels } }, async (req, reply) => {
    await user(await account(req.params), req.params);
    return reply.code(204).send();
  });

  // A user's own number (legacy Business Calling): one number per user, from the account's unassigned numbers.
  app.post(
    userUrl,
    { constraints: { operation: 'associate-phone-number' }, config: { action: 'chime:AssociatePhoneNumberWithUser' }, schema: { params: UserLabels, body: Schemas.userPhoneNumber } },
    async (req) => {
      const u = await user(await account(req.params), req.params);
      if (!E164.test(req.body.E164PhoneNumber)) throw badRequest('E164PhoneNumber is not an E.164 number');
      const e164 = normalizeE164(req.body.E164PhoneNumber);
      const held = await numberOf(u);
      if (held !== undefined && held !== e164) throw new ChimeError('ConflictException', `User ${u.id} already has ${held}`);
      const at = now();
      const r = await db
        .updateTable('phone_numbers')
        .set({ associations: JSON.stringify([{ Name: 'UserId', Value: u.id, AssociatedTimestamp: at }]), status: 'Assigned', updated_at: at })
        .where('e164', '=', e164)
        .where('status', '=', 'Unassigned')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1 && held !== e164) throw notFound(`PhoneNumber ${e164} is not an unassigned number of this account`);
      return {};
    },
  );

  app.post(userUrl, { constraints: { operation: 'disassociate-phone-number' }, config: { action: 'chime:DisassociatePhoneNumberFromUser' }, schema: { params: UserLabels } }, async (req) => {
    const u = await user(await account(req.params), req.params);
    const held = await numberOf(u);
    if (held === undefined) throw notFound(`User ${u.id} has no phone number`);
    await db.updateTable('phone_numbers').set({ associations: '[]', status: 'Unassigned', updated_at: now() }).where('e164', '=', held).execute();
    return {};
  });

  app.get(`${userUrl}/settings`, { config: { action: 'chime:GetUserSettings' }, schema: { params: UserLabels } }, async (req) => {
    const u = await user(await account(req.params), req.params);
    return { UserSettings: { Telephony: { InboundCalling: true, OutboundCalling: true, SMS: false, ...(JSON.parse(u.settings) as object) } } };
  });

  app.put(`${userUrl}/settings`, { config: { action: 'chime:UpdateUserSettings' }, schema: { params: UserLabels, body: Schemas.userSettings } }, async (req, reply) => {
    const u = await user(await account(req.params), req.params);
    const t = req.body.UserSettings.Telephony;
    await db.updateTable('users').set({ settings: JSON.stringify({ InboundCalling: t.InboundCalling, OutboundCalling: t.OutboundCalling, SMS: t.SMS }) }).where('id', '=', u.id).execute();
    return reply.code(204).send();
  });
}

/** Admin route: mark an account as Enterprise (its users then come from a directory). */
export function registerAccountAdminRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  app.post('/carillon/v1/accounts/:accountId/type', { config: { action: 'carillon:SetAccountType' }, schema: { params: AccountLabel, body: Schemas.accountType } }, async (req) => {
    const id = req.params.accountId;
    const type = req.body.AccountType;
    const r = await deps.store.db.updateTable('accounts').set({ type }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound(`Account ${id} not found`);
    return { AccountId: id, AccountType: type };
  });
}
