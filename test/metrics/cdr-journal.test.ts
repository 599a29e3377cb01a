import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CdrJournal } from '../../metrics/cdr-journal.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const logger = pino({ level: 'silent' });
let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entries = (n: number, from = 0): { key: string; body: string }[] =>
  Array.from({ length: n }, (_, i) => ({ key: `Amazon-Chime-Business-Calling-CDRs/json/000000000000/2026/11/30/tx${from + i}_2026-11-30-12.00.00.000_id${from + i}`, body: `{"n":${from + i}}\n` }));

describe('CDR journal', () => {
  it('writes every journaled record to its file in the background, and leaves no journal behind', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdrj-'));
    const written: string[] = [];
    const j = new CdrJournal(path.join(dir, 'journal'), path.join(dir, 'cdrs'), logger, (f) => written.push(f));
    for (let i = 0; i < 50; i++) j.record(entries(2, 2 * i));
    await j.flush();
    expect(written).toHaveLength(100);
    for (const e of entries(100)) expect(readFileSync(path.join(dir, 'cdrs', e.key), 'utf8')).toBe(e.body);
    await j.close();
    expect(readdirSync(path.join(dir, 'journal'))).toEqual([]);
  });

  it('a process killed (SIGKILL) right after journaling loses nothing: the next start writes the files', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdrj-'));
    const script = path.join(dir, 'crash.ts');
    writeFileSync(
      script,
      `import { CdrJournal } from ${JSON.stringify(path.join(ROOT, 'metrics/cdr-journal.ts'))};
const j = new CdrJournal(${JSON.stringify(path.join(dir, 'journal'))}, ${JSON.stringify(path.join(dir, 'cdrs'))}, { error() {}, warn() {} }, () => undefined);
for (let i = 0; i < 200; i++) j.record([{ key: 'Amazon-Chime-Business-Calling-CDRs/json/000000000000/2026/11/30/tx' + i + '_2026-11-30-12.00.00.000_id' + i, body: '{"n":' + i + '}\\n' }]);
process.kill(process.pid, 'SIGKILL');
`,
    );
    let signal: string | undefined;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      signal = (err as { signal?: string }).signal;
    }
    expect(signal).toBe('SIGKILL');
    // Killed before (most of) the background writes: the journal is there.
    expect(readdirSync(path.join(dir, 'journal')).length).toBeGreaterThan(0);
    const replayed: string[] = [];
    const next = new CdrJournal(path.join(dir, 'journal'), path.join(dir, 'cdrs'), logger, (f) => replayed.push(f));
    next.replay();
    for (let i = 0; i < 200; i++) {
      const file = path.join(dir, 'cdrs', `Amazon-Chime-Business-Calling-CDRs/json/000000000000/2026/11/30/tx${i}_2026-11-30-12.00.00.000_id${i}`);
      expect(readFileSync(file, 'utf8')).toBe(`{"n":${i}}\n`);
    }
    expect(readdirSync(path.join(dir, 'journal'))).toEqual([]);
    // No temporary file is left where the CDRs are.
    const all = readdirSync(path.join(dir, 'cdrs'), { recursive: true, encoding: 'utf8' });
    expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a record whose file cannot be written stays in the journal for the next start', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdrj-'));
    // A file where the day directory should be: the record cannot be written under it.
    const blocked = path.join(dir, 'cdrs', 'Amazon-Chime-Business-Calling-CDRs/json/000000000000/2026/11');
    execFileSync('mkdir', ['-p', path.dirname(blocked)]);
    writeFileSync(blocked, 'not a directory');
    const j = new CdrJournal(path.join(dir, 'journal'), path.join(dir, 'cdrs'), logger, () => undefined);
    j.record(entries(1));
    await j.flush();
    await j.close();
    expect(readdirSync(path.join(dir, 'journal')).length).toBe(1);
    rmSync(blocked);
    new CdrJournal(path.join(dir, 'journal'), path.join(dir, 'cdrs'), logger, () => undefined).replay();
    expect(existsSync(path.join(dir, 'cdrs', entries(1)[0]?.key ?? ''))).toBe(true);
  });
});
