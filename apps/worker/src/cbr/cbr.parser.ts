// Parses CBR's XML_daily.asp answer: bytes in, exact decimal strings out, or a CbrParseError.
//
// Choices (each covered by cbr.parser.spec.ts):
// - The body is decoded by the encoding its XML declaration names (none → UTF-8, as XML says).
//   A body that claims windows-1251 but is valid UTF-8 with multibyte sequences has been
//   re-encoded on the way (a proxy, a saved copy). Its numbers would still read correctly, but a
//   response that lies about its own bytes is not the CBR answer we know, so it is REJECTED and
//   the last good data stays; the error names the mismatch so an operator can see it.
// - DOCTYPE / ENTITY declarations are refused before parsing (no entity expansion of any kind);
//   only the five predefined XML entities and numeric references are decoded, in names.
// - One bad row (zero, negative or garbage number, bad code, bad nominal) or a duplicated code
//   rejects the whole response: CBR publishes the set as one document, and storing part of a
//   damaged document would mix good and bad data under one date.
// - An empty ValCurs (no Valute) parses to `rates: []`; the caller decides what it means (a poll
//   treats it as an error, a past-date fetch as "no rates published for that day").
import iconv from 'iconv-lite';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

import { ID_FORMS, exactly, expandExponent, isoDate } from '@ratewire/contracts';
import type { CbrRateInput } from '@ratewire/db';
import { dec, isPositive, normalize, unitRate } from '@ratewire/money';

/** One currency of a parsed day: what the repository stores. */
export type CbrRate = CbrRateInput;

export interface CbrDay {
  /** ValCurs@Date as YYYY-MM-DD: the date the rates take effect. */
  date: string;
  rates: CbrRate[];
}

export class CbrParseError extends Error {
  override readonly name = 'CbrParseError';
}

const MAX_VALUTES = 1000;
const CURRENCY_CODE = exactly(ID_FORMS.currencyCode);

/** Decodes the bytes by the XML declaration; rejects a UTF-8 body mislabelled as windows-1251. */
export function decodeCbrBody(body: Buffer): string {
  if (body.length === 0) throw new CbrParseError('empty body');
  const head = body.subarray(0, 200).toString('latin1');
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']/i.exec(head)?.[1]?.toLowerCase();
  const hasBom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
  const encoding = declared ?? 'utf-8';
  if (encoding === 'windows-1251' || encoding === 'cp1251') {
    if (hasBom || looksLikeUtf8(body)) {
      throw new CbrParseError('body is UTF-8 but its XML declaration says windows-1251 (re-encoded response)');
    }
    return iconv.decode(body, 'windows-1251');
  }
  if (encoding === 'utf-8' || encoding === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
    } catch {
      throw new CbrParseError('body is not valid UTF-8');
    }
  }
  if (iconv.encodingExists(encoding)) return iconv.decode(body, encoding);
  throw new CbrParseError(`unsupported encoding "${declared}"`);
}

/** Valid UTF-8 holding at least one multibyte sequence (plain ASCII is valid in both encodings). */
function looksLikeUtf8(body: Buffer): boolean {
  if (!body.some((b) => b >= 0x80)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** CBR number text → exact decimal string: "29,8618" → "29.8618", "5,39256E-05" → "0.0000539256". */
export function parseCbrNumber(text: string): string {
  const t = text.trim();
  const m = /^(-?\d{1,20})(?:[,.](\d{1,20}))?(?:[eE]([+-]?\d{1,3}))?$/.exec(t);
  if (!m) throw new CbrParseError(`not a number: "${t.slice(0, 40)}"`);
  const mantissa = m[2] ? `${m[1]}.${m[2]}` : (m[1] ?? '0');
  const plain = m[3] === undefined ? mantissa : expandExponent(mantissa, Number.parseInt(m[3], 10));
  return normalize(plain);
}

/** "26.09.2013", "26/09/2013" (older answers) or "2013-09-26" → "2013-09-26". */
export function parseCbrDate(text: string): string {
  const t = text.trim();
  const m = /^(\d{2})[./](\d{2})[./](\d{4})$/.exec(t);
  const iso = m ? `${m[3]}-${m[2]}-${m[1]}` : t;
  if (!isoDate.safeParse(iso).success) throw new CbrParseError(`not a date: "${t.slice(0, 40)}"`);
  return iso;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === 'Valute',
});

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10), whole);
    return PREDEFINED[ref] ?? whole;
  });
}
function safeCodePoint(cp: number, fallback: string): string {
  return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(node: Node, key: string, what: string): string {
  const v = node[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new CbrParseError(`${what}: missing <${key}>`);
}
function optionalText(node: Node, key: string): string | null {
  const v = node[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Parses an XML_daily.asp body (bytes as received). */
export function parseCbrDaily(body: Buffer): CbrDay {
  return parseCbrDailyText(decodeCbrBody(body));
}

export function parseCbrDailyText(xml: string): CbrDay {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new CbrParseError('DOCTYPE/ENTITY declarations are not accepted');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new CbrParseError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new CbrParseError(`not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isNode(doc)) throw new CbrParseError('no document');
  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== 'ValCurs') {
    throw new CbrParseError(`root element is not ValCurs (found ${roots.join(', ').slice(0, 60) || 'nothing'})`);
  }
  // `<ValCurs/>` and `<ValCurs Date=".."></ValCurs>` come back as '' or an attributes-only node
  const root: unknown = doc.ValCurs;
  const valCurs: Node = isNode(root) ? root : {};
  const dateAttr = valCurs['@_Date'];
  if (typeof dateAttr !== 'string') throw new CbrParseError('ValCurs has no Date attribute');
  const date = parseCbrDate(dateAttr);
  const unknownChildren = Object.keys(valCurs).filter((k) => !k.startsWith('@_') && k !== 'Valute');
  if (unknownChildren.length) {
    throw new CbrParseError(`unexpected elements in ValCurs: ${unknownChildren.join(', ').slice(0, 60)}`);
  }
  const valutes = valCurs.Valute === undefined ? [] : valCurs.Valute;
  if (!Array.isArray(valutes)) throw new CbrParseError('Valute is not a list');
  if (valutes.length > MAX_VALUTES) throw new CbrParseError(`too many Valute elements (${valutes.length})`);

  const seen = new Set<string>();
  const rates = valutes.map((v: unknown, i): CbrRate => {
    const where = `Valute #${i + 1}`;
    if (!isNode(v)) throw new CbrParseError(`${where}: not an element with children`);
    const code = text(v, 'CharCode', where).trim();
    if (!CURRENCY_CODE.test(code)) throw new CbrParseError(`${where}: bad CharCode "${code.slice(0, 20)}"`);
    if (seen.has(code)) throw new CbrParseError(`duplicate currency code ${code}`);
    seen.add(code);
    const at = `${where} (${code})`;
    const nominalText = text(v, 'Nominal', at).trim();
    if (!/^[1-9]\d{0,8}$/.test(nominalText))
      throw new CbrParseError(`${at}: bad Nominal "${nominalText.slice(0, 20)}"`);
    const nominal = Number.parseInt(nominalText, 10);
    const value = positive(text(v, 'Value', at), `${at}: Value`);
    const vunit = optionalText(v, 'VunitRate');
    // nominals are powers of ten, so 20 places keep the quotient exact
    const unit = vunit === null ? unitRate(value, nominal) : positive(vunit, `${at}: VunitRate`);
    // VunitRate is CBR's own, more precise quotient; one far from value ÷ nominal is garbage
    if (vunit !== null && !dec(unit).mul(nominal).minus(value).abs().lte(dec(value).mul('0.01'))) {
      throw new CbrParseError(`${at}: VunitRate ${unit} disagrees with Value ${value} / Nominal ${nominal}`);
    }
    const name = decodeEntities(text(v, 'Name', at).trim());
    if (!name) throw new CbrParseError(`${at}: empty Name`);
    const numCode = optionalText(v, 'NumCode')?.trim() ?? null;
    const id = v['@_ID'];
    return { code, numCode, cbrId: typeof id === 'string' ? id : null, name, nominal, value, unitRate: unit };
  });
  return { date, rates };
}

function positive(raw: string, what: string): string {
  let v: string;
  try {
    v = parseCbrNumber(raw);
  } catch {
    throw new CbrParseError(`${what} is not a number: "${raw.trim().slice(0, 40)}"`);
  }
  if (!isPositive(v)) throw new CbrParseError(`${what} must be positive, got "${raw.trim().slice(0, 40)}"`);
  return v;
}
