import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * Line-oriented append-only files kept open (one append stream per file, no open/close per
 * line), written in order without blocking the event loop. Failures (disk full, permissions)
 * are counted, never thrown: a log never stops a call.
 */
export class AppendFiles {
  readonly #streams = new Map<string, WriteStream>();
  failures = 0;

  append(file: string, text: string): void {
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
    s.write(text);
  }

  /** Resolves when everything appended so far is on disk (the files are closed; later appends reopen them). */
  async flush(): Promise<void> {
    const all = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.all(all.map((s) => new Promise<void>((resolve) => s.end(() => resolve()))));
  }
}
