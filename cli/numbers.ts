import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.ts';
import { ConfigError } from '../common/errors.ts';
import { ChimeError } from '../control-plane/api/errors.ts';
import { importInventory, inventoryEntry } from '../control-plane/api/chime/phone-numbers.ts';
import { openStore } from '../control-plane/store/store.ts';

/**
 * `carillon numbers import FILE.csv --data DIR [--db URL]`: adds the operator's number ranges to
 * the inventory. CSV header `PhoneNumber,Type,Country,State,City`; Type is Local or TollFree.
 * A bad row stops the import before anything is written, naming the line.
 */
export function parseInventoryCsv(text: string): ReturnType<typeof inventoryEntry>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const want = ['PhoneNumber', 'Type', 'Country', 'State', 'City'];
  if (want.some((h, i) => header[i] !== h)) throw new ConfigError(`the CSV header must be ${want.join(',')}`);
  return lines.map((line, i) => {
    const [PhoneNumber, Type, Country, State, City] = line.split(',').map((f) => f.trim());
    try {
      return inventoryEntry({ E164PhoneNumber: PhoneNumber, Type, Country, State, City }, `line ${i + 2}`);
    } catch (err) {
      if (err instanceof ChimeError) throw new ConfigError(err.message);
      throw err;
    }
  });
}

export async function numbersCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'import') throw new ConfigError('usage: carillon numbers import FILE.csv --data DIR [--db URL]');
  const { values, positionals } = parseArgs({ args: rest, options: { data: { type: 'string' }, db: { type: 'string' } }, allowPositionals: true, strict: true });
  const file = positionals[0];
  if (file === undefined || positionals.length !== 1) throw new ConfigError('usage: carillon numbers import FILE.csv --data DIR [--db URL]');
  const entries = parseInventoryCsv(readFileSync(file, 'utf8'));
  const dataDir = values.data ?? process.env.CARILLON_DATA ?? './data';
  const store = await openStore(values.db ?? process.env.CARILLON_DB ?? path.join(dataDir, 'carillon.sqlite'));
  try {
    const added = await importInventory(store.db, entries, new Date(systemClock.nowMs()).toISOString());
    process.stdout.write(`imported ${added} new numbers (${entries.length - added} already known)\n`);
  } finally {
    await store.close();
  }
}
