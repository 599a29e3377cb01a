import path from 'node:path';
import { AppendFiles } from '../../common/append-files.ts';
import type { MediaQualityRecord } from './record.ts';

/**
 * Appends media quality records as JSON lines to
 * `<data>/logs/voice-connector/<voice connector id | default>/media-quality.jsonl`, through one
 * open append stream per file (no open/close per record), in order, without blocking signaling.
 */
export class QualityLog {
  readonly #root: string;
  readonly #files = new AppendFiles();
  readonly #enabled: (voiceConnectorId: string) => boolean;

  /** `enabled`: whether a voice connector's logging configuration asks for media metric logs (calls on no voice connector always log). */
  constructor(dataDir: string, enabled: (voiceConnectorId: string) => boolean = () => true) {
    this.#root = path.join(dataDir, 'logs', 'voice-connector');
    this.#enabled = enabled;
  }

  /** Records that could not be written (disk full, permissions): counted, never thrown. */
  get failures(): number {
    return this.#files.failures;
  }

  fileFor(voiceConnectorId: string): string {
    const safe = /^[a-z0-9-]{1,64}$/.test(voiceConnectorId) ? voiceConnectorId : 'default';
    return path.join(this.#root, safe, 'media-quality.jsonl');
  }

  /** Told of every record, logged or not (per voice connector media metrics). */
  readonly listeners = new Set<(record: MediaQualityRecord) => void>();

  write(record: MediaQualityRecord): void {
    for (const l of this.listeners) l(record);
    if (record.voice_connector_id !== 'default' && !this.#enabled(record.voice_connector_id)) return;
    this.#files.append(this.fileFor(record.voice_connector_id), `${JSON.stringify(record)}\n`);
  }

  /** Resolves when every record handed over so far is on disk (the files are closed; later writes reopen them). */
  flush(): Promise<void> {
    return this.#files.flush();
  }
}
