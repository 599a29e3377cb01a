import { parentPort, workerData } from 'node:worker_threads';
import { nodeTimers, systemClock } from '../common/clock.ts';
import { createCryptoRandom } from '../common/random.ts';
import { nodeSockets } from '../common/sockets.ts';
import { MediaCore } from './media-core.ts';
import type { MediaCommand, MediaReply, MediaWorkerOptions } from './protocol.ts';

/**
 * A media worker thread: owns its slice of the RTP port range and every socket in it. Commands
 * arrive as `{ id, cmd }` and are answered as `{ id, reply }`; events go up as `{ event }`.
 */
const port = parentPort;
if (port === null) throw new Error('media/worker.ts runs only as a worker thread');

const core = new MediaCore(
  workerData as MediaWorkerOptions,
  { sockets: nodeSockets, clock: systemClock, timers: nodeTimers, random: createCryptoRandom() },
  (event) => port.postMessage({ event }),
);

/** Replies of this turn, sent back in one message. */
let outbox: [number, MediaReply][] = [];
const answer = (id: number, reply: MediaReply): void => {
  if (outbox.push([id, reply]) === 1) {
    setImmediate(() => {
      const replies = outbox;
      outbox = [];
      port.postMessage({ replies });
    });
  }
};

port.on('message', (msg: { batch: { id: number; cmd: MediaCommand }[] } | { shutdown: true }) => {
  if ('shutdown' in msg) {
    core.close();
    port.postMessage({ closed: true });
    return;
  }
  for (const { id, cmd } of msg.batch) {
    try {
      const r = core.handle(cmd);
      if (r instanceof Promise) r.then((reply) => answer(id, reply), () => answer(id, { ok: false, error: 'internal' }));
      else answer(id, r);
    } catch {
      answer(id, { ok: false, error: 'internal' });
    }
  }
});
// Prompts are read before the worker takes calls (a missing file shows at the first play as bad-prompt).
core.warmPrompts();
port.postMessage({ ready: true });
