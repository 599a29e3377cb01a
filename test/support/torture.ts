import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One RFC 4475 fixture and what a correct element does with it (test/fixtures/rfc4475/README.md). */
export interface TortureCase {
  readonly file: string;
  readonly section: string;
  readonly kind: 'request' | 'response';
  /** true: must parse; false: must be rejected; 'lenient': either is correct (RFC leaves it open). */
  readonly valid: boolean | 'lenient';
}

export const TORTURE_DIR = path.join(import.meta.dirname, '../fixtures/rfc4475');
export const TORTURE: readonly TortureCase[] = JSON.parse(readFileSync(path.join(TORTURE_DIR, 'expectations.json'), 'utf8')) as TortureCase[];
