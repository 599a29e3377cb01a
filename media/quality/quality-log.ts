import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import path from 'node:path';
import type { MediaQualityRecord } from './record.ts';

/**
 * Appends media quality records as JSON lines to
 * `<data>/logs/voice-connector/<voice connector id | default>/media-quality.jsonl`, through one
 * open append stream per file (no open/close per record), in order, without blocking signaling.
 */
export class QualityLog {
  readonly #root: string;
  readonly #streams = new Map<string, WriteStream>();
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
    let s = this.#streams.get(file);
    if (s === undefined) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
      } catch {
        this.failures++;
        return;
      }
      const stream = createWriteStream(file, { flags: 'a' });
      stream.on('error', () => {
        this.failures++;
        if (this.#streams.get(file) === stream) this.#streams.delete(file);
      });
      this.#streams.set(file, stream);
      s = stream;
    }
    s.write(`${JSON.stringify(record)}\n`);
  }

  /** Resolves when every record handed over so far is on disk (the files are closed; later writes reopen them). */
  async flush(): Promise<void> {
    const all = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.all(all.map((s) => new Promise<void>((resolve) => s.end(() => resolve()))));
  }
}
