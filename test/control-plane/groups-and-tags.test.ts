import {
  ConflictException,
  CreateVoiceConnectorCommand,
  CreateVoiceConnectorGroupCommand,
  DeleteVoiceConnectorCommand,
  DeleteVoiceConnectorGroupCommand,
  GetVoiceConnectorGroupCommand,
  ListTagsForResourceCommand,
  NotFoundException,
  paginateListVoiceConnectorGroups,
  ResourceLimitExceededException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateVoiceConnectorGroupCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe.each(['sqlite', 'postgres'] as const)('voice connector groups and tags through the SDK (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi(backend);
  });
  afterAll(async () => {
    await api.close();
  });

  it('groups hold up to three connectors by priority; members and groups are protected from deletion', async () => {
    const c = api.client();
    const vcs: string[] = [];
    for (let i = 0; i < 4; i++) vcs.push((await c.send(new CreateVoiceConnectorCommand({ Name: `r${i}`, RequireEncryption: false, AwsRegion: i % 2 === 0 ? 'us-east-1' : 'us-west-2' }))).VoiceConnector?.VoiceConnectorId as string);
    const g = await c.send(new CreateVoiceConnectorGroupCommand({ Name: 'failover', VoiceConnectorItems: [{ VoiceConnectorId: vcs[0], Priority: 1 }, { VoiceConnectorId: vcs[1], Priority: 2 }] }));
    expect(g.$metadata.httpStatusCode).toBe(201);
    const gid = g.VoiceConnectorGroup?.VoiceConnectorGroupId as string;
    expect(g.VoiceConnectorGroup?.VoiceConnectorItems).toEqual([{ VoiceConnectorId: vcs[0], Priority: 1 }, { VoiceConnectorId: vcs[1], Priority: 2 }]);
    await expect(c.send(new CreateVoiceConnectorGroupCommand({ Name: 'too-many', VoiceConnectorItems: vcs.map((v, i) => ({ VoiceConnectorId: v, Priority: i + 1 })) }))).rejects.toBeInstanceOf(ResourceLimitExceededException);
    await expect(c.send(new CreateVoiceConnectorGroupCommand({ Name: 'ghost', VoiceConnectorItems: [{ VoiceConnectorId: 'nosuchconnector000000a', Priority: 1 }] }))).rejects.toBeInstanceOf(NotFoundException);
    const del = await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: vcs[0] })).catch((e: unknown) => e);
    expect(del).toBeInstanceOf(ConflictException);
    expect((del as ConflictException).Code).toBe('VoiceConnectorGroupAssociationsExist');
    await expect(c.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: gid }))).rejects.toBeInstanceOf(ConflictException);
    const u = await c.send(new UpdateVoiceConnectorGroupCommand({ VoiceConnectorGroupId: gid, Name: 'failover', VoiceConnectorItems: [{ VoiceConnectorId: vcs[2], Priority: 1 }] }));
    expect(u.$metadata.httpStatusCode).toBe(202);
    expect((await c.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: gid }))).VoiceConnectorGroup?.VoiceConnectorItems).toEqual([{ VoiceConnectorId: vcs[2], Priority: 1 }]);
    await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: vcs[0] }));
    for (let i = 0; i < 3; i++) await c.send(new CreateVoiceConnectorGroupCommand({ Name: `g${i}` }));
    let n = 0;
    for await (const page of paginateListVoiceConnectorGroups({ client: c, pageSize: 2 }, {})) n += page.VoiceConnectorGroups?.length ?? 0;
    expect(n).toBe(4);
    await c.send(new UpdateVoiceConnectorGroupCommand({ VoiceConnectorGroupId: gid, Name: 'failover', VoiceConnectorItems: [] }));
    expect((await c.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: gid }))).$metadata.httpStatusCode).toBe(204);
  });

  it('tags a voice connector, lists and removes its tags, and refuses unknown resources and a 51st tag', async () => {
    const c = api.client();
    const vc = (await c.send(new CreateVoiceConnectorCommand({ Name: 'tagged', RequireEncryption: false, Tags: [{ Key: 'env', Value: 'prod' }] }))).VoiceConnector;
    const arn = vc?.VoiceConnectorArn as string;
    await c.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'team', Value: 'voice' }, { Key: 'env', Value: 'staging' }] }));
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'env', Value: 'staging' }, { Key: 'team', Value: 'voice' }]);
    await c.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['env'] }));
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'team', Value: 'voice' }]);
    await expect(c.send(new ListTagsForResourceCommand({ ResourceARN: 'arn:aws:chime:us-east-1:000000000000:vc/nosuch' }))).rejects.toBeInstanceOf(NotFoundException);
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expect(c.send(new TagResourceCommand({ ResourceARN: arn, Tags: fifty }))).rejects.toBeInstanceOf(ResourceLimitExceededException);
    // The refused request changed nothing.
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'team', Value: 'voice' }]);
  });
});
