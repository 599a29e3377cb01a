import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedFetch } from '../support/chime-api.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

/**
 * The API as the three independent SigV4 signers call it: Debian's AWS CLI (/usr/bin/aws, not a
 * pip or pyenv `aws` earlier on PATH), Debian's botocore under /usr/bin/python3, and
 * `curl --aws-sigv4` for Carillon's own routes. A missing peer fails the tests
 * (scripts/install-test-peers.sh installs them).
 */
const AWS = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';
const CURL = '/usr/bin/curl';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') return reject(err);
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}

/** Core operations through botocore's own client; prints what came back (and each ClientError's code) as JSON. */
const BOTOCORE_SCRIPT = String.raw`
import json, sys
import botocore
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

a = json.load(sys.stdin)
c = botocore.session.get_session().create_client(
    'chime-sdk-voice', region_name='us-east-1', endpoint_url=a['endpoint'],
    aws_access_key_id=a['key'], aws_secret_access_key=a['secret'],
    config=Config(retries={'total_max_attempts': 1}))

def error(call, **kw):
    try:
        call(**kw)
        return None
    except ClientError as e:
        return {'class': type(e).__name__, 'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}

out = {'botocore': botocore.__version__}
vc = c.create_voice_connector(Name='boto-vc', AwsRegion='us-east-1', RequireEncryption=False)['VoiceConnector']
vid = vc['VoiceConnectorId']
out['created'] = vc
out['got'] = c.get_voice_connector(VoiceConnectorId=vid)['VoiceConnector']
c.put_voice_connector_termination(VoiceConnectorId=vid, Termination={'CpsLimit': 2, 'CallingRegions': ['US'], 'CidrAllowedList': ['10.1.2.3/32'], 'Disabled': False})
out['termination'] = c.get_voice_connector_termination(VoiceConnectorId=vid)['Termination']
c.put_voice_connector_termination_credentials(VoiceConnectorId=vid, Credentials=[{'Username': 'boto', 'Password': 'secret-1'}])
out['usernames'] = c.list_voice_connector_termination_credentials(VoiceConnectorId=vid)['Usernames']
out['listed'] = [v['VoiceConnectorId'] for v in c.list_voice_connectors()['VoiceConnectors']]
out['search'] = c.search_available_phone_numbers(Country='US', AreaCode='503', PhoneNumberType='Local')['E164PhoneNumbers']
out['notFound'] = error(c.get_voice_connector, VoiceConnectorId='00000000-0000-0000-0000-000000000000')
out['badRequest'] = error(c.put_voice_connector_termination, VoiceConnectorId=vid, Termination={'CallingRegions': ['US'], 'CidrAllowedList': ['not-a-cidr']})
c.delete_voice_connector_termination(VoiceConnectorId=vid)
c.delete_voice_connector(VoiceConnectorId=vid)
out['afterDelete'] = error(c.get_voice_connector, VoiceConnectorId=vid)
# Past the body limit (botocore's own length check off, so the request is sent).
unchecked = botocore.session.get_session().create_client(
    'chime-sdk-voice', region_name='us-east-1', endpoint_url=a['endpoint'],
    aws_access_key_id=a['key'], aws_secret_access_key=a['secret'],
    config=Config(retries={'total_max_attempts': 1}, parameter_validation=False))
out['tooLarge'] = error(unchecked.create_voice_connector, Name='x' * (2 * 1024 * 1024), RequireEncryption=False)
json.dump(out, sys.stdout, default=str)
`;

// Each CLI run starts a Python interpreter (1–2 s): the tests get room on a loaded machine.
describe('the API through the AWS CLI, botocore and curl --aws-sigv4', { timeout: 180_000 }, () => {
  let t: TestServer;
  let endpoint: string;
  let key: { accessKeyId: string; secretAccessKey: string };
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // A missing peer is a failure, not a skip.
    accessSync(AWS, constants.X_OK);
    accessSync(CURL, constants.X_OK);
    const probe = await run(PYTHON, ['-c', 'import botocore'], { PATH: '/usr/bin:/bin' });
    if (probe.code !== 0) throw new Error(`${PYTHON} cannot import botocore (install python3-botocore: scripts/install-test-peers.sh): ${probe.stderr}`);
    t = await startTestServer();
    endpoint = `http://127.0.0.1:${t.ports.api}`;
    const creds = JSON.parse(readFileSync(path.join(t.dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
    key = { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-awscli-'));
    writeFileSync(path.join(dir, 'credentials'), `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, 'config'), '[default]\nregion = us-east-1\noutput = json\n');
    // Only what the peers need: nothing of the machine's own AWS settings leaks in.
    env = {
      PATH: '/usr/bin:/bin',
      HOME: dir,
      LANG: 'C.UTF-8',
      AWS_CONFIG_FILE: path.join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1',
      AWS_PAGER: '',
    };
    const inventory = await signedFetch(endpoint, key, 'POST', '/carillon/v1/phone-number-inventory', {
      PhoneNumbers: [
        ...['+12065550100', '+12065550101', '+12065550102'].map((n) => ({ E164PhoneNumber: n, Type: 'Local', Country: 'US', State: 'WA', City: 'Seattle' })),
        { E164PhoneNumber: '+15035550100', Type: 'Local', Country: 'US', State: 'OR', City: 'Portland' },
      ],
    });
    expect(inventory.status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const aws = (...args: string[]): Promise<Run> =>
    run(AWS, ['chime-sdk-voice', ...args, '--endpoint-url', endpoint, '--region', 'us-east-1', '--no-cli-pager', '--output', 'json'], env);
  const awsJson = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await aws(...args);
    expect(r.code, `aws ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>);
  };

  it('is Debian’s AWS CLI v2 with chime-sdk-voice in its model', async () => {
    const v = await run(AWS, ['--version'], env);
    expect(v.code).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/^aws-cli\/2\.\d+\.\d+ .*debian/);
    const help = await run(AWS, ['chime-sdk-voice', 'help'], { ...env, MANPAGER: 'cat', PAGER: 'cat' });
    for (const op of ['create-voice-connector', 'put-voice-connector-termination-credentials', 'search-available-phone-numbers', 'create-phone-number-order']) expect(help.stdout).toContain(op);
  });

  it('creates, reads, updates, lists and deletes a voice connector', async () => {
    const created = (await awsJson('create-voice-connector', '--name', 'cli-vc', '--aws-region', 'us-east-1', '--no-require-encryption')).VoiceConnector as Record<string, unknown>;
    expect(created).toMatchObject({ Name: 'cli-vc', AwsRegion: 'us-east-1', RequireEncryption: false, VoiceConnectorId: expect.any(String) });
    const id = String(created.VoiceConnectorId);
    expect((await awsJson('get-voice-connector', '--voice-connector-id', id)).VoiceConnector).toMatchObject({ VoiceConnectorId: id, Name: 'cli-vc' });
    expect((await awsJson('update-voice-connector', '--voice-connector-id', id, '--name', 'cli-vc renamed', '--require-encryption')).VoiceConnector).toMatchObject({
      Name: 'cli-vc renamed',
      RequireEncryption: true,
    });
    const listed = (await awsJson('list-voice-connectors')).VoiceConnectors as { VoiceConnectorId: string; Name: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ VoiceConnectorId: id, Name: 'cli-vc renamed' }));
    expect((await aws('delete-voice-connector', '--voice-connector-id', id)).code).toBe(0);
    const gone = await aws('get-voice-connector', '--voice-connector-id', id);
    expect(gone.code).toBe(254);
    expect(gone.stderr).toContain('NotFoundException');
  });

  it('puts and gets termination, termination credentials and origination', async () => {
    const id = String(((await awsJson('create-voice-connector', '--name', 'cli-trunk', '--no-require-encryption')).VoiceConnector as Record<string, unknown>).VoiceConnectorId);
    const termination = { CpsLimit: 1, CallingRegions: ['US'], CidrAllowedList: ['10.1.2.3/32'], Disabled: false };
    expect((await awsJson('put-voice-connector-termination', '--voice-connector-id', id, '--termination', JSON.stringify(termination))).Termination).toMatchObject(termination);
    expect((await awsJson('get-voice-connector-termination', '--voice-connector-id', id)).Termination).toMatchObject(termination);
    await awsJson('put-voice-connector-termination-credentials', '--voice-connector-id', id, '--credentials', JSON.stringify([{ Username: 'pbx1', Password: 'pw-one' }, { Username: 'pbx2', Password: 'pw-two' }]));
    expect((await awsJson('list-voice-connector-termination-credentials', '--voice-connector-id', id)).Usernames).toEqual(expect.arrayContaining(['pbx1', 'pbx2']));
    const origination = { Routes: [{ Host: '10.0.0.5', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 1 }], Disabled: false };
    expect((await awsJson('put-voice-connector-origination', '--voice-connector-id', id, '--origination', JSON.stringify(origination))).Origination).toMatchObject(origination);
    expect((await awsJson('get-voice-connector-origination', '--voice-connector-id', id)).Origination).toMatchObject(origination);
  });

  it('searches, orders and lists phone numbers', async () => {
    const found = (await awsJson('search-available-phone-numbers', '--country', 'US', '--area-code', '206', '--phone-number-type', 'Local', '--max-results', '2')).E164PhoneNumbers as string[];
    expect(found).toHaveLength(2);
    expect(found.every((n) => n.startsWith('+1206'))).toBe(true);
    const order = (await awsJson('create-phone-number-order', '--product-type', 'VoiceConnector', '--e164-phone-numbers', ...found)).PhoneNumberOrder as Record<string, unknown>;
    expect(order).toMatchObject({ ProductType: 'VoiceConnector', Status: 'Successful' });
    const got = (await awsJson('get-phone-number-order', '--phone-number-order-id', String(order.PhoneNumberOrderId))).PhoneNumberOrder as { OrderedPhoneNumbers: { E164PhoneNumber: string; Status: string }[] };
    expect(got.OrderedPhoneNumbers.map((o) => [o.E164PhoneNumber, o.Status]).sort()).toEqual(found.map((n) => [n, 'Acquired']).sort());
    const numbers = (await awsJson('list-phone-numbers')).PhoneNumbers as { E164PhoneNumber: string }[];
    expect(numbers.map((n) => n.E164PhoneNumber)).toEqual(expect.arrayContaining(found));
  });

  it('prints the Chime exception names the server answers, with exit code 254', async () => {
    const notFound = await aws('get-voice-connector', '--voice-connector-id', '00000000-0000-0000-0000-000000000000');
    expect(notFound.code).toBe(254);
    expect(notFound.stderr).toMatch(/\(NotFoundException\) when calling the GetVoiceConnector operation/);
    const id = String(((await awsJson('create-voice-connector', '--name', 'cli-bad', '--no-require-encryption')).VoiceConnector as Record<string, unknown>).VoiceConnectorId);
    // Valid for the CLI's own checks (a list of strings), refused by the server.
    const bad = await aws('put-voice-connector-termination', '--voice-connector-id', id, '--termination', JSON.stringify({ CallingRegions: ['US'], CidrAllowedList: ['not-a-cidr'] }));
    expect(bad.code).toBe(254);
    expect(bad.stderr).toMatch(/\(BadRequestException\) when calling the PutVoiceConnectorTermination operation/);
    // The CLI's own parameter validation (a required option missing) never reaches the server: 252.
    const usage = await aws('get-voice-connector');
    expect(usage.code).toBe(252);
    // A wrong secret: the signature does not match.
    writeFileSync(path.join(dir, 'wrong'), `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = not-the-secret\n`);
    const forbidden = await run(AWS, ['chime-sdk-voice', 'list-voice-connectors', '--endpoint-url', endpoint, '--no-cli-pager'], { ...env, AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'wrong') });
    expect(forbidden.code).toBe(254);
    expect(forbidden.stderr).toContain('ForbiddenException');
  });

  it('serves botocore’s own client (python3-botocore), errors raised as the modeled exceptions', async () => {
    const script = path.join(dir, 'botocore-client.py');
    writeFileSync(script, BOTOCORE_SCRIPT);
    const r = await new Promise<Run>((resolve, reject) => {
      const child = execFile(PYTHON, [script], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      });
      child.stdin?.end(JSON.stringify({ endpoint, key: key.accessKeyId, secret: key.secretAccessKey }));
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const vc = out.created as { VoiceConnectorId: string };
    expect(out.got).toMatchObject({ VoiceConnectorId: vc.VoiceConnectorId, Name: 'boto-vc' });
    expect(out.termination).toMatchObject({ CpsLimit: 2, CidrAllowedList: ['10.1.2.3/32'] });
    expect(out.usernames).toEqual(['boto']);
    expect(out.listed).toContain(vc.VoiceConnectorId);
    expect(out.search).toEqual(['+15035550100']);
    expect(out.notFound).toEqual({ class: 'NotFoundException', code: 'NotFoundException', status: 404 });
    expect(out.badRequest).toEqual({ class: 'BadRequestException', code: 'BadRequestException', status: 400 });
    expect(out.afterDelete).toMatchObject({ class: 'NotFoundException' });
    expect(out.tooLarge).toEqual({ class: 'BadRequestException', code: 'BadRequestException', status: 413 });
  });

  it('answers curl --aws-sigv4 on Carillon’s own routes', async () => {
    const curl = (...args: string[]): Promise<Run> => run(CURL, ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:chime', '--user', `${key.accessKeyId}:${key.secretAccessKey}`, '-w', '\n%{http_code}', ...args], env);
    const parse = (r: Run): { status: number; body: Record<string, unknown> } => {
      const nl = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(nl + 1)), body: JSON.parse(r.stdout.slice(0, nl)) as Record<string, unknown> };
    };
    const carrier = { Name: 'upstream', Host: '10.9.8.7', Protocol: 'UDP', Priority: 1, Weight: 10 };
    const created = parse(await curl('-X', 'POST', '-H', 'content-type: application/json', '--data-binary', JSON.stringify(carrier), `${endpoint}/carillon/v1/carriers`));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ Carrier: { ...carrier, CarrierId: expect.any(String) } });
    const listed = parse(await curl(`${endpoint}/carillon/v1/carriers`));
    expect(listed.status).toBe(200);
    expect(listed.body.Carriers).toContainEqual(expect.objectContaining(carrier));
    // curl 7.88 signs the query exactly as typed: written in canonical form (sorted, AWS-encoded) it verifies.
    const audit = parse(await curl(`${endpoint}/carillon/v1/audit?action=carillon%3ACreateCarrier&max-results=5`));
    expect(audit.status).toBe(200);
    expect(audit.body.AuditEvents).toContainEqual(expect.objectContaining({ Action: 'carillon:CreateCarrier', Status: 201, AccessKeyId: key.accessKeyId }));
    // The same POST with a wrong secret is refused before its body is looked at.
    const wrong = await run(CURL, ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:chime', '--user', `${key.accessKeyId}:wrong`, '-w', '\n%{http_code}', '-X', 'POST', '--data-binary', 'not json', `${endpoint}/carillon/v1/carriers`], env);
    expect(parse(wrong)).toMatchObject({ status: 403, body: { Code: 'Forbidden' } });
  });
});
