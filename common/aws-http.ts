import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { NodeLookup } from './resolver.ts';

/**
 * The AWS SDK's HTTP/1.1 handler (Kinesis- and S3-compatible local servers often speak nothing
 * else) whose agents resolve names through `lookup` (the process's Resolver). The handler makes
 * its agents from these options (keep-alive, 50 sockets, as its defaults) and destroys them with
 * the client.
 */
export function awsRequestHandler(lookup: NodeLookup | undefined): NodeHttpHandler {
  if (lookup === undefined) return new NodeHttpHandler();
  return new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: 50, lookup }, httpsAgent: { keepAlive: true, maxSockets: 50, lookup } });
}
