// The Convert page: an amount from one currency to another at CBR rates (GET /api/v1/convert),
// latest or as of a day. The fields are checked with the contract's query schema before anything
// is sent; a conversion that passes is kept in the URL (so it can be linked and reloaded) and its
// answer shown as the API sends it: the result, the rate used, its effective date and source.
import { convertQuery, convertResponse, type ConvertResponse } from '@ratewire/contracts/rates.schemas';
import { useEffect, useState } from 'preact/hooks';

import { Page, Source } from '../../components/page.tsx';
import { ApiError, request } from '../../core/api.ts';
import { groupDigits, todayUtc } from '../../core/format.ts';
import { navigate, route } from '../../core/router.tsx';
import { useLoad } from '../../core/use.ts';
import { cbrCurrencies, currencyLabel, type CbrCurrencies } from './currencies.ts';
import './convert.css';

type Field = 'amount' | 'from' | 'to' | 'date';
type Fields = Record<Field, string>;
type FieldErrors = Partial<Record<Field, string>>;

const FIELDS: Field[] = ['amount', 'from', 'to', 'date'];

type Outcome = { key: string; value: ConvertResponse } | { key: string; error: unknown };

/** The API's complaint about field `f`: its field errors, an unknown currency, a day without rates. */
function apiFieldError(err: ApiError, f: Field, query: Record<string, string>): string | undefined {
  const named = err.field(`query.${f}`);
  if (named) return named;
  if (err.code === 'unknown_currency' || err.code === 'unknown_symbol') {
    if ((f === 'from' || f === 'to') && query[f] && new RegExp(`\\b${query[f]}\\b`).test(err.message)) {
      return err.message;
    }
  }
  if (err.code === 'no_cbr_rates' && f === 'date' && query['date']) return err.message;
  return undefined;
}

/** The conversion the URL asks for, if it names one. */
function askedInUrl(search: string): Fields | undefined {
  const q = new URLSearchParams(search);
  if (!q.has('amount') && !q.has('from') && !q.has('to')) return undefined;
  return { amount: q.get('amount') ?? '', from: q.get('from') ?? '', to: q.get('to') ?? '', date: q.get('date') ?? '' };
}

/** A reader's words for an amount the contract refuses (its own message says it in JSON terms). */
function amountMessage(raw: string, contract: string): string {
  const v = raw.trim();
  if (!v) return 'Enter an amount, e.g. 1500.75';
  if (v.startsWith('-')) return 'The amount must not be negative';
  if (v.includes(',')) return 'Use a point for the decimals and no thousands separators, e.g. 1500.75';
  if (/^\d+(\.\d+)?$/.test(v)) return `Too many digits: ${contract.replace(/, e\.g\..*$/, '')}`;
  return 'Enter digits with an optional point, e.g. 1500.75';
}

/** The fields checked against the contract: the query to send, or a message per wrong field. */
function check(f: Fields): { query: Record<string, string> } | { errors: FieldErrors } {
  const parsed = convertQuery.safeParse({
    amount: f.amount,
    from: f.from,
    to: f.to,
    ...(f.date.trim() ? { date: f.date.trim() } : {}),
  });
  if (!parsed.success) {
    const errors: FieldErrors = {};
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as Field | undefined;
      if (field && FIELDS.includes(field))
        errors[field] ??= field === 'amount' ? amountMessage(f.amount, issue.message) : issue.message;
    }
    return { errors };
  }
  const { amount, from, to, date } = parsed.data;
  return { query: { amount, from, to, ...(date ? { date } : {}) } };
}

function CurrencySelect(props: {
  id: Field;
  label: string;
  value: string;
  list: CbrCurrencies | undefined;
  error: string | undefined;
  onChange: (v: string) => void;
}) {
  const { id, list, value } = props;
  const codes = list?.codes ?? [];
  return (
    <div class="convert-field">
      <label for={`convert-${id}`}>{props.label}</label>
      <select
        id={`convert-${id}`}
        name={id}
        value={value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `convert-${id}-error` : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {!codes.includes(value) && <option value={value}>{value || '—'}</option>}
        {codes.map((c) => (
          <option key={c} value={c}>
            {list ? currencyLabel(list, c) : c}
          </option>
        ))}
      </select>
      {props.error && (
        <p id={`convert-${id}-error`} class="field-error" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

function Result({ answer }: { answer: ConvertResponse }) {
  return (
    <div class="panel convert-result" data-testid="convert-result">
      <p class="convert-figure">
        <span data-field="amount">{groupDigits(answer.amount)}</span> {answer.from} ={' '}
        <strong data-field="result">{groupDigits(answer.result)}</strong> {answer.to}
      </p>
      <dl class="convert-facts">
        <dt>Rate used</dt>
        <dd>
          1 {answer.from} = <span data-field="rate">{answer.rate}</span> {answer.to}
          <span class="hint">
            {' '}
            (CBR unit rate of {answer.from} ÷ that of {answer.to}, half-up to 8 places)
          </span>
        </dd>
        <dt>Effective date</dt>
        <dd>
          <time data-field="date" dateTime={answer.date}>
            {answer.date}
          </time>
        </dd>
      </dl>
      <Source>
        Central Bank of Russia official rates, publication effective {answer.date}; conversion through RUB, result
        half-up to 2 places.
      </Source>
    </div>
  );
}

export default function ConvertPage() {
  const asked = askedInUrl(route.value.search);
  const [currencies] = useLoad(() => cbrCurrencies(), []);
  const list = currencies.state === 'ready' ? currencies.value : undefined;
  const [fields, setFields] = useState<Fields>(() => asked ?? { amount: '100', from: 'USD', to: 'RUB', date: '' });
  const [errors, setErrors] = useState<FieldErrors>({});

  // Back and Forward (or a followed link) bring another conversion: the fields follow the URL
  const search = route.value.search;
  useEffect(() => {
    const a = askedInUrl(search);
    if (a) setFields(a);
  }, [search]);

  const checked = asked ? check(asked) : undefined;
  const query = checked && 'query' in checked ? checked.query : undefined;
  const key = query ? JSON.stringify(query) : '';
  const [answer] = useLoad(
    (signal) =>
      query
        ? request('/api/v1/convert', { query, schema: convertResponse, signal }).then(
            (value): Outcome => ({ key, value }),
            (error: unknown): Outcome => ({ key, error }),
          )
        : Promise.resolve(undefined),
    [key],
  );
  // the answer to the conversion in the URL (an older one stays out while the new one loads)
  const outcome = answer.state === 'ready' && answer.value?.key === key ? answer.value : undefined;
  const failure = outcome && 'error' in outcome ? outcome.error : undefined;
  const apiField = (f: Field) => (query && failure instanceof ApiError ? apiFieldError(failure, f, query) : undefined);
  // errors of the URL's own conversion (a link with a bad value), then those the API reported
  const urlErrors = checked && 'errors' in checked ? checked.errors : {};
  const errorOf = (f: Field) =>
    errors[f] ?? (asked && fields[f] === asked[f] ? (urlErrors[f] ?? apiField(f)) : undefined);
  const failureInline = FIELDS.some((f) => apiField(f));

  const set = (f: Field) => (v: string) => {
    setFields((old) => ({ ...old, [f]: v }));
    setErrors((old) => ({ ...old, [f]: undefined }));
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const result = check(fields);
    if ('errors' in result) {
      setErrors(result.errors);
      const first = FIELDS.find((f) => result.errors[f]);
      if (first) document.getElementById(`convert-${first}`)?.focus();
      return;
    }
    setErrors({});
    navigate(`/convert?${new URLSearchParams(result.query).toString()}`, { replace: true });
  };

  const swap = () => {
    setFields((old) => ({ ...old, from: old.to, to: old.from }));
    setErrors((old) => ({ ...old, from: undefined, to: undefined }));
  };

  const amountError = errorOf('amount');
  const dateError = errorOf('date');
  return (
    <Page title="Convert" intro="Convert an amount between currencies at the Central Bank of Russia's official rates.">
      <form class="convert-form" noValidate onSubmit={submit} aria-describedby="convert-help">
        <p id="convert-help" class="hint">
          Every conversion goes through rubles at the CBR rates in force on the day you choose (the newest when the day
          is left empty).
        </p>
        <div class="form-row">
          <div class="convert-field">
            <label for="convert-amount">Amount</label>
            <input
              id="convert-amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              spellcheck={false}
              value={fields.amount}
              aria-invalid={amountError ? true : undefined}
              aria-describedby={amountError ? 'convert-amount-error convert-amount-hint' : 'convert-amount-hint'}
              onInput={(e) => set('amount')(e.currentTarget.value)}
            />
            <p id="convert-amount-hint" class="hint">
              Digits with an optional point, e.g. 1500.75
            </p>
            {amountError && (
              <p id="convert-amount-error" class="field-error" role="alert">
                {amountError}
              </p>
            )}
          </div>
          <CurrencySelect
            id="from"
            label="From"
            value={fields.from}
            list={list}
            error={errorOf('from')}
            onChange={set('from')}
          />
          <button type="button" class="secondary convert-swap" onClick={swap} aria-label="Swap the currencies">
            ⇄ Swap
          </button>
          <CurrencySelect id="to" label="To" value={fields.to} list={list} error={errorOf('to')} onChange={set('to')} />
          <div class="convert-field">
            <label for="convert-date">On date (optional)</label>
            <input
              id="convert-date"
              name="date"
              type="date"
              max={todayUtc()}
              value={fields.date}
              aria-invalid={dateError ? true : undefined}
              aria-describedby={dateError ? 'convert-date-error convert-date-hint' : 'convert-date-hint'}
              onInput={(e) => set('date')(e.currentTarget.value)}
            />
            <p id="convert-date-hint" class="hint">
              Empty: the newest rates
            </p>
            {dateError && (
              <p id="convert-date-error" class="field-error" role="alert">
                {dateError}
              </p>
            )}
          </div>
          <button type="submit">Convert</button>
        </div>
        {currencies.state === 'failed' && (
          <p class="error" role="alert">
            The currency list could not be loaded ({currencies.error}); codes can still be given in the link.
          </p>
        )}
      </form>

      <div aria-live="polite" aria-busy={answer.state === 'loading' ? true : undefined}>
        {query && !outcome && <p class="muted">Converting…</p>}
        {outcome && 'value' in outcome && <Result answer={outcome.value} />}
        {failure !== undefined && !failureInline && (
          <p class="error convert-error" role="alert">
            {failure instanceof ApiError ? failure.message : 'The conversion failed.'}
          </p>
        )}
      </div>
    </Page>
  );
}
