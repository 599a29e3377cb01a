import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { MediaQualityRecord } from './record.ts';

/**
 * Appends media quality records as JSON lines to
 * `<data>/logs/voice-connector/<voice connector id | default>/media-quality.jsonl`.
 * Writes to one file happen in order, off the packet path and without blocking signaling.
 */
export class QualityLog {
  readonly #root: string;
  readonly #chains = new Map<string, Promise<void>>();
  /** Records that could not be written (disk full, permissions): counted, never thrown. */
  failures = 0;

  constructor(dataDir: string) {
    this.#root = path.join(dataDir, 'logs', 'voice-connector');
  }

  fileFor(voiceConnectorId: string): string {
    const safe = /^[a-z0-9-]{1,64}$/.test(voiceConnectorId) ? voiceConnectorId : 'default';
    return path.join(this.#root, safe, 'media-quality.jsonl');
  }

  write(record: MediaQualityRecord): void {
    const file = this.fileFor(record.voice_connector_id);
    const line = `${JSON.stringify(record)}\n`;
    const prev = this.#chains.get(file) ?? mkdir(path.dirname(file), { recursive: true }).then(() => undefined);
    const next = prev
      .then(() => appendFile(file, line))
      .catch(() => {
        this.failures++;
      });
    this.#chains.set(file, next);
  }

  /** Resolves when every record handed over so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all(this.#chains.values());
  }
}
