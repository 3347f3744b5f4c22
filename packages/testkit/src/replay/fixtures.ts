import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The recorded feed responses, kept in the repository (`packages/testkit/fixtures`, provenance in its
 * `SOURCES.md`).
 */
export const FIXTURES_DIR: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

/** Absolute path of a fixture (`rel` is relative to `dir`, default FIXTURES_DIR; absolute paths pass through). */
export function fixturePath(rel: string, dir: string = FIXTURES_DIR): string {
  return isAbsolute(rel) ? rel : resolve(dir, rel);
}

const cache = new Map<string, Buffer>();

/** Cached bytes of a fixture; callers must not mutate the returned buffer. */
export function loadFixture(rel: string, dir: string = FIXTURES_DIR): Buffer {
  const abs = fixturePath(rel, dir);
  let bytes = cache.get(abs);
  if (!bytes) {
    if (!existsSync(abs)) {
      throw new Error(`fixture not found: ${abs} (fixtures dir ${dir})`);
    }
    bytes = readFileSync(abs);
    cache.set(abs, bytes);
  }
  return bytes;
}

/** The bytes of a fixture, exactly as recorded (a fresh copy the caller may modify). */
export function readFixture(rel: string, dir: string = FIXTURES_DIR): Buffer {
  return Buffer.from(loadFixture(rel, dir));
}

export interface CbrDailyFixture {
  /** Effective date (the date in the file name), `YYYY-MM-DD`. */
  date: string;
  /** Path relative to the fixtures dir, e.g. `cbr/XML_daily_2024-11-09.xml`. */
  path: string;
}

/**
 * The byte-original CBR daily fixtures (`cbr/XML_daily_<date>.xml`, or `cbr/XML_daily_eng_<date>.xml`
 * for `eng`), oldest first. `cbr/reencoded/` is never included.
 */
export function listCbrDailyFixtures(kind: 'daily' | 'eng' = 'daily', dir: string = FIXTURES_DIR): CbrDailyFixture[] {
  const pattern = kind === 'eng' ? /^XML_daily_eng_(\d{4}-\d{2}-\d{2})\.xml$/ : /^XML_daily_(\d{4}-\d{2}-\d{2})\.xml$/;
  const cbrDir = resolve(dir, 'cbr');
  if (!existsSync(cbrDir)) throw new Error(`CBR fixtures not found in ${cbrDir}`);
  const out: CbrDailyFixture[] = [];
  for (const name of readdirSync(cbrDir)) {
    const date = pattern.exec(name)?.[1];
    if (date) out.push({ date, path: `cbr/${name}` });
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * What CBR answers for `date_req=<date>`: the newest fixture whose effective date is on or before
 * `date` (`YYYY-MM-DD`), or undefined when `date` is before every fixture.
 */
export function resolveCbrDailyFixture(
  date: string,
  kind: 'daily' | 'eng' = 'daily',
  dir: string = FIXTURES_DIR,
): CbrDailyFixture | undefined {
  let found: CbrDailyFixture | undefined;
  for (const f of listCbrDailyFixtures(kind, dir)) if (f.date <= date) found = f;
  return found;
}

/** `dd/mm/yyyy` or `dd.mm.yyyy` (CBR's query format) → `YYYY-MM-DD`; undefined when not a real date. */
export function parseCbrDate(text: string): string | undefined {
  const m = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(text.trim());
  if (!m) return undefined;
  const [, d = '', mo = '', y = ''] = m;
  const iso = `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const t = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== iso ? undefined : iso;
}

/** `YYYY-MM-DD` → `dd.mm.yyyy`, as CBR writes dates in its XML. */
export function formatCbrDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}.${m}.${y}`;
}

/**
 * Edits a byte buffer as text without touching the bytes you do not replace: the buffer is viewed
 * as latin1 (one char per byte), so windows-1251 Cyrillic survives untouched. `replacement` is
 * written back one byte per char: ASCII, or text cut from the same latin1 view (e.g. a whole
 * `<Valute>` block); a char above U+00FF (real Cyrillic) is refused rather than mangled. A string
 * `search` replaces the first occurrence; a RegExp follows its flags (`g` for all). Throws when
 * `search` does not occur, so a changed fixture cannot silently stop the edit.
 */
export function spliceBytes(bytes: Uint8Array, search: string | RegExp, replacement: string): Buffer {
  if (/[\u0100-\uffff]/.test(replacement)) {
    throw new Error('spliceBytes: the replacement must be ASCII or latin1-viewed bytes (no char above U+00FF)');
  }
  const text = Buffer.from(bytes).toString('latin1');
  const found = typeof search === 'string' ? text.includes(search) : text.search(search) >= 0;
  if (!found) throw new Error(`spliceBytes: ${String(search)} not found`);
  return Buffer.from(
    typeof search === 'string' ? text.replace(search, () => replacement) : text.replace(search, replacement),
    'latin1',
  );
}
