import { CreateAccountCommand, CreateUserCommand, DeleteAccountCommand, UpdateUserCommand } from '@aws-sdk/client-chime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageDirectory } from '../../control-plane/usage-directory.ts';
import type { UsageDirectory } from '../../metrics/usage-report.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe('the usage report directory read from the store', () => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi('sqlite');
  });
  afterAll(async () => {
    await api.close();
  });

  it('lists live accounts with their users: name, email, registration status, creation (invitation) date, no login', async () => {
    const c = api.legacyClient();
    const sales = (await c.send(new CreateAccountCommand({ Name: 'Example Sales' }))).Account?.AccountId as string;
    const gone = (await c.send(new CreateAccountCommand({ Name: 'Gone' }))).Account?.AccountId as string;
    await c.send(new DeleteAccountCommand({ AccountId: gone }));
    const ana = (await c.send(new CreateUserCommand({ AccountId: sales, Email: 'ana@example.com' }))).User?.UserId as string;
    const akua = (await c.send(new CreateUserCommand({ AccountId: sales, Email: 'akua@example.com' }))).User?.UserId as string;
    await c.send(new UpdateUserCommand({ AccountId: sales, UserId: ana, LicenseType: 'Pro' }));
    // The shape the usage report takes.
    const directory: UsageDirectory = () => usageDirectory(api.store);
    const accounts = await directory();
    const mine = accounts.find((a) => a.accountId === sales);
    expect(accounts.some((a) => a.accountId === gone)).toBe(false);
    expect(mine?.name).toBe('Example Sales');
    const users = [...(mine?.users ?? [])].sort((a, b) => a.email.localeCompare(b.email));
    expect(users.map((u) => [u.userId, u.email, u.registrationStatus])).toEqual([
      [akua, 'akua@example.com', 'Registered'],
      [ana, 'ana@example.com', 'Registered'],
    ]);
    for (const u of users) {
      expect(u.createdAtMs).toBeGreaterThan(Date.UTC(2020, 0, 1));
      expect(u.lastLoginMs).toBeUndefined();
    }
    c.destroy();
  });
});
