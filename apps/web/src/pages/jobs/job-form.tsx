// The form that submits an exchange job: the bills editor (rows of denomination × count, added and
// removed with buttons, or pasted as CSV or JSON), the rate (a currency's CBR rate or an explicit
// one), an optional callback URL. The body is checked with the contract before it is sent, and
// each complaint, the contract's or the service's, is shown beside its field in its row.
import { cbrRatesResponse } from '@ratewire/contracts/rates.schemas';
import { exchangeJobAccepted, exchangeJobBody } from '@ratewire/contracts/jobs.schemas';
import { useRef, useState } from 'preact/hooks';

import { Field, FieldError, FormError, describedBy } from '../../components/field.tsx';
import { Source } from '../../components/page.tsx';
import { ApiError, request } from '../../core/api.ts';
import { groupDigits, trimZeros } from '../../core/format.ts';
import { navigate } from '../../core/router.tsx';
import { useLoad } from '../../core/use.ts';
import { failureText, fieldsOf, issuesOf, type FieldMessages } from '../../core/form-errors.ts';
import { newRow, parseBills, submitted, type BillRow } from './bills.ts';

type RateMode = 'currency' | 'rate';

const WHOLE = /^\s*\d+\s*$/;

function RowsEditor({
  rows,
  setRows,
  errors,
}: {
  rows: BillRow[];
  setRows: (rows: BillRow[]) => void;
  errors: FieldMessages;
}) {
  const table = useRef<HTMLTableElement>(null);
  const focusRow = (key: number | null) =>
    setTimeout(() => {
      const el =
        key === null ? document.getElementById('add-bill') : document.getElementById(`bill-${key}-denomination`);
      el?.focus();
    });
  const update = (key: number, field: 'id' | 'denomination' | 'count', value: string) =>
    setRows(rows.map((r) => (r.key === key ? { ...r, [field]: value } : r)));
  const add = () => {
    const row = newRow(rows);
    setRows([...rows, row]);
    focusRow(row.key);
  };
  const remove = (index: number) => {
    const next = rows.filter((_, i) => i !== index);
    setRows(next);
    focusRow(next[index]?.key ?? next[index - 1]?.key ?? null);
  };
  const cell = (row: BillRow, i: number, field: 'id' | 'denomination' | 'count', label: string) => {
    const id = `bill-${row.key}-${field}`;
    const error = errors[`bills.${i}.${field === 'id' ? 'denomination_id' : field}`];
    return (
      <td>
        <label for={id} class="visually-hidden">
          {label}, row {i + 1}
        </label>
        <input
          id={id}
          class={`bill-${field}`}
          inputMode={field === 'denomination' ? 'decimal' : 'numeric'}
          autoComplete="off"
          value={row[field]}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy(id, false, error)}
          onInput={(e) => update(row.key, field, e.currentTarget.value)}
          onKeyDown={(e) => {
            // Enter in the last row's count adds a row instead of submitting
            if (e.key === 'Enter' && field === 'count' && i === rows.length - 1 && !e.ctrlKey && !e.metaKey) {
              e.preventDefault();
              add();
            }
          }}
        />
        <FieldError id={`${id}-error`} message={error} />
      </td>
    );
  };
  return (
    <fieldset class="bills">
      <legend>Bills</legend>
      <div class="table-wrap">
        <table ref={table} class="bills-table">
          <caption class="visually-hidden">Bills: one row per denomination</caption>
          <thead>
            <tr>
              <th scope="col">Denomination ID</th>
              <th scope="col">Denomination</th>
              <th scope="col">Count</th>
              <th scope="col">
                <span class="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={row.key} data-row={i}>
                {cell(row, i, 'id', 'Denomination ID')}
                {cell(row, i, 'denomination', 'Denomination')}
                {cell(row, i, 'count', 'Count')}
                <td>
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Remove row ${i + 1}`}
                    disabled={rows.length === 1}
                    onClick={() => remove(i)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <FieldError id="bills-error" message={errors['bills']} />
      <p class="bills-actions">
        <button type="button" id="add-bill" class="secondary" onClick={add}>
          Add a row
        </button>
        <span class="hint">Face value in the currency, count a whole number. Enter in the last count adds a row.</span>
      </p>
    </fieldset>
  );
}

function PasteBills({ onRows }: { onRows: (rows: BillRow[]) => void }) {
  const [source, setSource] = useState('');
  const [error, setError] = useState<string>();
  const use = () => {
    const parsed = parseBills(source);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    setSource('');
    onRows(parsed.rows);
  };
  return (
    <details class="paste-bills">
      <summary>Paste bills (CSV or JSON)</summary>
      <label for="paste-bills">Bills to paste</label>
      <textarea
        id="paste-bills"
        rows={4}
        value={source}
        aria-describedby={describedBy('paste-bills', true, error)}
        onInput={(e) => setSource(e.currentTarget.value)}
      />
      <p id="paste-bills-hint" class="hint">
        CSV lines <code>denomination,count</code> or <code>id,denomination,count</code>, or JSON{' '}
        <code>
          [{'{'}"denomination_id": 1, "denomination": "100", "count": 3{'}'}]
        </code>
        . Replaces the rows above.
      </p>
      <FieldError id="paste-bills-error" message={error} />
      <button type="button" class="secondary" onClick={use}>
        Use these bills
      </button>
    </details>
  );
}

function RatePicker({
  mode,
  setMode,
  currency,
  setCurrency,
  rate,
  setRate,
  errors,
}: {
  mode: RateMode;
  setMode: (m: RateMode) => void;
  currency: string;
  setCurrency: (c: string) => void;
  rate: string;
  setRate: (r: string) => void;
  errors: FieldMessages;
}) {
  const [latest] = useLoad((signal) => request('/api/v1/rates/cbr/latest', { schema: cbrRatesResponse, signal }), []);
  const codes = latest.state === 'ready' ? Object.keys(latest.value.rates).sort() : [];
  const chosen = latest.state === 'ready' ? latest.value.rates[currency] : undefined;
  const currencyError = errors['currency'];
  return (
    <fieldset>
      <legend>Rate</legend>
      <div class="check">
        <input
          type="radio"
          name="rate-mode"
          id="rate-mode-currency"
          checked={mode === 'currency'}
          onChange={() => setMode('currency')}
        />
        <label for="rate-mode-currency">The latest CBR rate of a currency</label>
      </div>
      <div class="check">
        <input
          type="radio"
          name="rate-mode"
          id="rate-mode-rate"
          checked={mode === 'rate'}
          onChange={() => setMode('rate')}
        />
        <label for="rate-mode-rate">An exchange rate I give</label>
      </div>
      {mode === 'currency' ? (
        <div class="field">
          <label for="job-currency">Currency</label>
          <select
            id="job-currency"
            value={currency}
            aria-invalid={currencyError ? 'true' : undefined}
            aria-describedby={describedBy('job-currency', false, currencyError)}
            onChange={(e) => setCurrency(e.currentTarget.value)}
          >
            <option value="">Choose a currency</option>
            {codes.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <FieldError id="job-currency-error" message={currencyError} />
          {latest.state === 'failed' && (
            <p class="error" role="alert">
              The CBR rates could not be loaded: {latest.error}
            </p>
          )}
          {latest.state === 'ready' && (
            <Source>
              {chosen ? `${groupDigits(trimZeros(chosen.unit_rate))} RUB per ${currency} now; ` : ''}
              CBR, effective {latest.value.date}. The job records the newest rate when it is submitted.
            </Source>
          )}
        </div>
      ) : (
        <Field
          id="job-rate"
          label="Exchange rate (RUB per unit)"
          inputMode="decimal"
          autoComplete="off"
          hint="A decimal such as 92.5; it is used exactly as written."
          value={rate}
          error={errors['exchange_rate']}
          onInput={(e) => setRate(e.currentTarget.value)}
        />
      )}
    </fieldset>
  );
}

export function JobForm() {
  const [rows, setRows] = useState<BillRow[]>(() => [newRow([])]);
  const [mode, setMode] = useState<RateMode>('currency');
  const [currency, setCurrency] = useState('');
  const [rate, setRate] = useState('');
  const [callback, setCallback] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  /** The job last sent and its request id, until the service accepts it. */
  const attempt = useRef<{ key: string; requestId: string } | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const found: FieldMessages = {};
    rows.forEach((r, i) => {
      if (!WHOLE.test(r.id)) found[`bills.${i}.denomination_id`] = 'expected a whole number';
      if (!r.denomination.trim()) found[`bills.${i}.denomination`] = 'required';
      if (!WHOLE.test(r.count)) found[`bills.${i}.count`] = 'expected a whole number';
    });
    if (mode === 'currency' && !currency) found['currency'] = 'choose a currency';
    if (mode === 'rate' && !rate.trim()) found['exchange_rate'] = 'required';
    const job = {
      bills: rows.map((r) => ({
        // ids and counts are whole numbers of bills, not money
        denomination_id: WHOLE.test(r.id) ? Number(r.id) : -1,
        denomination: r.denomination.trim(),
        count: WHOLE.test(r.count) ? Number(r.count) : 0,
      })),
      ...(mode === 'currency' ? { currency } : { exchange_rate: rate.trim() }),
      ...(callback.trim() ? { callback_url: callback.trim() } : {}),
    };
    // the same job sent again after a failed attempt (a lost answer, say) keeps its request id, so
    // the service answers the job it may already have stored instead of storing a second one
    const key = JSON.stringify(job);
    if (attempt.current?.key !== key) attempt.current = { key, requestId: crypto.randomUUID() };
    const parsed = exchangeJobBody.safeParse({ request_id: attempt.current.requestId, ...job });
    const all = { ...(parsed.success ? {} : issuesOf(parsed.error)), ...found };
    setErrors(all);
    if (!parsed.success || Object.keys(found).length) {
      setFailure('Some fields need a change; see the messages beside them.');
      return;
    }
    setBusy(true);
    try {
      const accepted = await request('/api/v1/exchange-jobs', {
        method: 'POST',
        body: parsed.data,
        schema: exchangeJobAccepted,
      });
      submitted.set(accepted.job_id, {
        bills: parsed.data.bills.map((b) => ({ id: b.denomination_id, denomination: b.denomination, count: b.count })),
        callback: parsed.data.callback_url !== undefined,
      });
      attempt.current = undefined;
      navigate(`/jobs?id=${accepted.job_id}`);
    } catch (err) {
      const fields = fieldsOf(err);
      setErrors(fields);
      setFailure(
        err instanceof ApiError && Object.keys(fields).length
          ? 'The service refused some fields; see the messages beside them.'
          : failureText(err, 'Submitting the job'),
      );
      setBusy(false);
    }
  };
  return (
    <form class="job-form panel" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="new-job-title">
      <h2 id="new-job-title">New exchange job</h2>
      <RowsEditor rows={rows} setRows={setRows} errors={errors} />
      <PasteBills
        onRows={(r) => {
          setRows(r);
          setErrors({});
        }}
      />
      <RatePicker
        mode={mode}
        setMode={setMode}
        currency={currency}
        setCurrency={setCurrency}
        rate={rate}
        setRate={setRate}
        errors={errors}
      />
      <Field
        id="job-callback"
        label="Callback URL (optional)"
        type="url"
        inputMode="url"
        autoComplete="off"
        hint="The result is PUT there, signed with your webhook secret (see Account)."
        value={callback}
        error={errors['callback_url']}
        onInput={(e) => setCallback(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Submitting…' : 'Submit the job'}
        </button>
      </p>
    </form>
  );
}
