import type { Clock } from '../../../common/clock.ts';
import type { Random } from '../../../common/random.ts';
import type { ConfigSnapshots } from '../../config-snapshot.ts';
import type { StoreMeetingDirectory } from '../../meeting-directory.ts';
import type { Store } from '../../store/store.ts';
import type { LiveMeetings } from '../../../signaling/calls/meeting-events.ts';

/** What every Chime API route file is given (plugin.ts registers them all with it). */
export interface ChimeApiDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Time for the SigV4 skew check (default `clock`; tests move `clock` days ahead and keep this real). */
  readonly signingClock?: Clock | undefined;
  readonly random: Random;
  /** Voice connector domain: OutboundHostName is `<id>.voiceconnector.<domain>`. */
  readonly domain: string;
  /** 12-digit account id in ARNs. */
  readonly accountId: string;
  /** Regions CreateVoiceConnector accepts (ListAvailableVoiceConnectorRegions). */
  readonly regions: readonly string[];
  /** Rebuilt after every successful change, for signaling to read. */
  readonly snapshots?: ConfigSnapshots | undefined;
  /** The meeting directory dial-in reads: rebuilt after every successful change, like `snapshots`. */
  readonly directory?: StoreMeetingDirectory | undefined;
  /** Meetings in progress (the meeting call layer): live state and moderator actions; absent, live routes answer ServiceUnavailableException. */
  readonly liveMeetings?: LiveMeetings | undefined;
  /** Requests per second (and burst) each access key may make before 429 ThrottledClientException. */
  readonly rateLimit?: { readonly perSec: number; readonly burst: number } | undefined;
}
