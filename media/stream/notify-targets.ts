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

/**
 * Every event on `<subject>.<voiceConnectorId>`, a meeting's on `<subject>.meetings.<meetingId>`
 * (characters NATS gives a meaning to replaced by `_`; a NATS connection that reconnects by itself).
 */
export function natsTarget(connection: () => NatsConnection | undefined, subject: string): EventTarget {
  return {
    name: 'nats',
    deliver(event, body) {
      const nc = connection();
      if (nc === undefined || nc.isClosed()) return Promise.reject(new Error('NATS not connected'));
      nc.publish(natsSubjectOf(subject, event), Buffer.from(body, 'utf8'));
      return Promise.resolve();
    },
  };
}

/** The subject an event is published on (see natsTarget). */
export function natsSubjectOf(subject: string, event: StreamingEnvelope): string {
  const token = (v: unknown): string => (typeof v === 'string' && v !== '' ? v.replace(/[^A-Za-z0-9_:-]/g, '_') : 'unknown');
  // A meeting's state changes, and a recorded meeting's stream events (no voice connector): the meeting's subject.
  if (event['detail-type'] === 'Chime Meeting State Change' || (event.detail.voiceConnectorId === undefined && event.detail.meetingId !== undefined)) return `${subject}.meetings.${token(event.detail.meetingId)}`;
  return `${subject}.${String(event.detail.voiceConnectorId ?? 'unknown')}`;
}
