import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { NatsConnection } from 'nats';
import type { EventTarget, StreamingEnvelope } from './status-events.ts';

/**
 * The notification targets a voice connector's StreamingNotificationTargets names — EventBridge,
 * SNS, SQS (any endpoint speaking their APIs) — and a NATS subject for deployments on NATS.
 * `wants` says whether an event's voice connector asked for that target.
 */
type Wants = (event: StreamingEnvelope) => boolean;

export function eventBridgeTarget(client: EventBridgeClient, eventBusName: string, wants: Wants): EventTarget {
  return {
    name: 'eventbridge',
    wants,
    async deliver(event) {
      const out = await client.send(
        new PutEventsCommand({
          Entries: [{ Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail), EventBusName: eventBusName, Resources: [...event.resources], Time: new Date(event.time) }],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`EventBridge refused the event: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
    },
  };
}

export function snsTarget(client: SNSClient, topicArn: string, wants: Wants): EventTarget {
  return {
    name: 'sns',
    wants,
    async deliver(_event, body) {
      await client.send(new PublishCommand({ TopicArn: topicArn, Message: body }));
    },
  };
}

export function sqsTarget(client: SQSClient, queueUrl: string, wants: Wants): EventTarget {
  return {
    name: 'sqs',
    wants,
    async deliver(_event, body) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
  };
}

/** Every event on `<subject>.<voiceConnectorId>` (a recorded meeting's: `<subject>.meetings`; a NATS connection that reconnects by itself). */
export function natsTarget(connection: () => NatsConnection | undefined, subject: string): EventTarget {
  return {
    name: 'nats',
    deliver(event, body) {
      const nc = connection();
      if (nc === undefined || nc.isClosed()) return Promise.reject(new Error('NATS not connected'));
      const owner = event.detail.voiceConnectorId ?? (event.detail.meetingId === undefined ? 'unknown' : 'meetings');
      nc.publish(`${subject}.${String(owner)}`, Buffer.from(body, 'utf8'));
      return Promise.resolve();
    },
  };
}
