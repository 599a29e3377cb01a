import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from '../../control-plane/api/sigv4.ts';

/**
 * One local endpoint speaking the three notification APIs as their SDK clients call them: EventBridge
 * PutEvents (awsJson1_1, X-Amz-Target AWSEvents.PutEvents), SQS SendMessage (awsJson1_0,
 * AmazonSQS.SendMessage, answering the body's MD5 as the client checks it) and SNS Publish
 * (awsQuery form, XML answer). Every request's SigV4 is verified for its service (events, sqs,
 * sns); what was sent is kept per API.
 */
export interface NotifyEndpoint {
  readonly url: string;
  readonly eventBridge: { readonly EventBusName?: string; readonly Source?: string; readonly DetailType?: string; readonly Detail?: string }[];
  readonly sqs: { readonly QueueUrl?: string; readonly MessageBody?: string }[];
  readonly sns: { readonly TopicArn?: string; readonly Message?: string }[];
  /** Requests refused (bad signature, unknown operation). */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startNotifyEndpoint(credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }): Promise<NotifyEndpoint> {
  const ep = { eventBridge: [] as NotifyEndpoint['eventBridge'][number][], sqs: [] as NotifyEndpoint['sqs'][number][], sns: [] as NotifyEndpoint['sns'][number][], refused: [] as string[] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const service = target.startsWith('AWSEvents.') ? 'events' : target.startsWith('AmazonSQS.') ? 'sqs' : 'sns';
      void verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', rawHeaders: req.rawHeaders, body }, (akid) => Promise.resolve(akid === credentials.accessKeyId ? credentials.secretAccessKey : undefined), Date.now(), service).then((auth) => {
        if ('failure' in auth) {
          ep.refused.push(`${service}: ${auth.failure}`);
          res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'InvalidSignatureException' });
          return res.end('{"message":"signature"}');
        }
        if (target === 'AWSEvents.PutEvents') {
          const input = JSON.parse(body) as { Entries: NotifyEndpoint['eventBridge'][number][] };
          ep.eventBridge.push(...input.Entries);
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          return res.end(JSON.stringify({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: crypto.randomUUID() })) }));
        }
        if (target === 'AmazonSQS.SendMessage') {
          const input = JSON.parse(body) as NotifyEndpoint['sqs'][number];
          ep.sqs.push(input);
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          return res.end(JSON.stringify({ MessageId: crypto.randomUUID(), MD5OfMessageBody: crypto.createHash('md5').update(input.MessageBody ?? '', 'utf8').digest('hex') }));
        }
        const form = new URLSearchParams(body);
        if (form.get('Action') === 'Publish') {
          ep.sns.push({ TopicArn: form.get('TopicArn') ?? '', Message: form.get('Message') ?? '' });
          res.writeHead(200, { 'content-type': 'text/xml' });
          return res.end(
            `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${crypto.randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
          );
        }
        ep.refused.push(`unknown operation ${target || String(form.get('Action'))}`);
        res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'UnknownOperationException' });
        res.end('{}');
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...ep,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
