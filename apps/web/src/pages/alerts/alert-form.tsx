// The form that creates an alert: source and symbol (with the symbol's latest rate, its source and
// age beside it), the condition (a level, or a percentage move over a window), how often it fires,
// its cooldown and expiry, and where firings go (this console, a callback URL, email). The body is
// checked with the contract's create schema before it is sent; the contract's and the service's
// messages are shown on the fields they name, and focus moves to the first field that is wrong.
import {
  ALERT_WINDOWS,
  alertSchema,
  createAlertBody,
  MAX_ALERT_COOLDOWN_SECONDS,
  type AlertDto,
} from '@ratewire/contracts/alerts.schemas';
import { binancePriceResponse } from '@ratewire/contracts/binance.schemas';
import { cbrRatesResponse } from '@ratewire/contracts/rates.schemas';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { describedBy, Field, FieldError, FieldNotes, FormError } from '../../components/field.tsx';
import { Source } from '../../components/page.tsx';
import { ApiError, messageOf, request } from '../../core/api.ts';
import { ago, formatDateTime, groupDigits } from '../../core/format.ts';
import { me } from '../../core/session.ts';
import { CHANNEL_WORDS, describeCondition, FREQUENCY_WORDS, SOURCE_WORDS } from './describe.ts';

type Source = 'binance' | 'cbr';
type ConditionType = 'above' | 'below' | 'crosses_above' | 'crosses_below' | 'pct_change';
type Channel = 'ws' | 'callback' | 'email';

interface Draft {
  source: Source;
  symbol: string;
  type: ConditionType;
  level: string;
  window: '1h' | '24h';
  threshold: string;
  direction: 'up' | 'down' | 'both';
  frequency: 'once' | 'every_time' | 'once_per_day';
  cooldown: string;
  rearm: string;
  expires: string;
  channels: Channel[];
  callbackUrl: string;
}

const EMPTY: Draft = {
  source: 'binance',
  symbol: '',
  type: 'above',
  level: '',
  window: '1h',
  threshold: '',
  direction: 'both',
  frequency: 'once',
  cooldown: '0',
  rearm: '',
  expires: '',
  channels: ['ws'],
  callbackUrl: '',
};

const CONDITION_LABELS: Record<ConditionType, string> = {
  above: 'Above a level',
  below: 'Below a level',
  crosses_above: 'Crosses above a level',
  crosses_below: 'Crosses below a level',
  pct_change: 'Moves by a percentage',
};

/** Each field's id; a message for `condition.level` (contract) or `body.condition.level` (service) lands on it. */
const FIELD_IDS: Record<string, string> = {
  source: 'alert-source',
  symbol: 'alert-symbol',
  'condition.type': 'alert-type',
  'condition.level': 'alert-level',
  'condition.window': 'alert-window',
  'condition.threshold_pct': 'alert-threshold',
  'condition.direction': 'alert-direction',
  frequency: 'alert-frequency',
  cooldown_seconds: 'alert-cooldown',
  rearm_pct: 'alert-rearm',
  expires_at: 'alert-expires',
  channels: 'alert-channel-ws',
  callback_url: 'alert-callback',
};

type Messages = Record<string, string>;

const COOLDOWN_MESSAGE = `a whole number of seconds from 0 to ${MAX_ALERT_COOLDOWN_SECONDS.toLocaleString('en')} (30 days)`;

/** The request body as the form stands (not yet checked). */
function bodyOf(d: Draft): Record<string, unknown> {
  const condition =
    d.type === 'pct_change'
      ? { type: d.type, window: d.window, threshold_pct: d.threshold.trim(), direction: d.direction }
      : { type: d.type, level: d.level.trim() };
  const cooldown = d.cooldown.trim();
  const body: Record<string, unknown> = {
    source: d.source,
    symbol: d.symbol,
    condition,
    frequency: d.frequency,
    cooldown_seconds: cooldown === '' ? 0 : /^\d{1,9}$/.test(cooldown) ? Number(cooldown) : Number.NaN,
    channels: d.channels,
  };
  if (d.frequency === 'every_time' && d.rearm.trim()) body['rearm_pct'] = d.rearm.trim();
  if (d.expires) {
    const at = new Date(d.expires);
    body['expires_at'] = Number.isNaN(at.getTime()) ? d.expires : at.toISOString();
  }
  if (d.channels.includes('callback')) body['callback_url'] = d.callbackUrl;
  return body;
}

/** The contract's messages, by field, in words a reader of the form understands. */
function checkDraft(d: Draft): { body?: unknown; messages: Messages } {
  const messages: Messages = {};
  if (!d.symbol.trim())
    messages['symbol'] = d.source === 'cbr' ? 'Enter a currency code such as USD.' : 'Enter a symbol such as BTCUSDT.';
  if (d.type !== 'pct_change' && !d.level.trim()) messages['condition.level'] = 'Enter the level, e.g. 65000.';
  if (d.type === 'pct_change' && !d.threshold.trim())
    messages['condition.threshold_pct'] = 'Enter a percentage, e.g. 5.';
  if (d.channels.includes('callback') && !d.callbackUrl.trim()) {
    messages['callback_url'] = 'Enter the URL firings are posted to, or untick Callback.';
  }
  const parsed = createAlertBody.safeParse(bodyOf(d));
  if (parsed.success && Object.keys(messages).length === 0) return { body: parsed.data, messages };
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const path = issue.path.map(String).join('.');
    if (messages[path]) continue;
    messages[path] = path === 'cooldown_seconds' ? COOLDOWN_MESSAGE : issue.message;
  }
  return { messages };
}

/** The service's messages, keyed as the form keys them (`body.condition.level` → `condition.level`). */
function serviceMessages(err: ApiError): { messages: Messages; rest: string[] } {
  const messages: Messages = {};
  const rest: string[] = [];
  for (const f of err.fields) {
    const path = f.path.replace(/^body\.?/, '');
    if (FIELD_IDS[path]) messages[path] ??= f.message;
    else rest.push(path ? `${path}: ${f.message}` : f.message);
  }
  return { messages, rest };
}

function Select<T extends string>({
  id,
  label,
  value,
  options,
  onChange,
  hint,
  error,
}: {
  id: string;
  label: ComponentChildren;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange: (v: T) => void;
  hint?: ComponentChildren;
  error?: string | undefined;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onChange(e.currentTarget.value as T)}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      <FieldNotes id={id} hint={hint} error={error} />
    </div>
  );
}

type Latest = { value: string; at: string; note: string; warning?: string } | { error: string } | null;

/** The symbol's latest stored rate, so a level can be set against it. */
async function latestRate(source: Source, symbol: string, signal: AbortSignal): Promise<Latest> {
  if (source === 'binance') {
    const p = await request(`/api/v1/rates/binance/${encodeURIComponent(symbol)}`, {
      schema: binancePriceResponse,
      signal,
    });
    const latest = { value: p.price, at: p.updated_at, note: 'Binance spot price, updated' };
    if (p.status === 'TRADING') return latest;
    return {
      ...latest,
      warning: `${symbol} does not trade (${p.status ?? 'unlisted'}): an alert needs a symbol that trades.`,
    };
  }
  const r = await request('/api/v1/rates/cbr/latest', { query: { symbols: symbol }, schema: cbrRatesResponse, signal });
  const rate = r.rates[symbol];
  if (!rate) return { error: `CBR publishes no rate for ${symbol}.` };
  return { value: rate.unit_rate, at: r.date, note: `CBR rubles per unit, effective` };
}

function LatestRate({ source, symbol }: { source: Source; symbol: string }) {
  const [latest, setLatest] = useState<Latest>(null);
  const wanted = symbol.trim().toUpperCase();
  useEffect(() => {
    setLatest(null);
    const valid = source === 'cbr' ? /^[A-Z]{3}$/.test(wanted) : /^[A-Z0-9]{2,30}$/.test(wanted);
    if (!valid) return undefined;
    const abort = new AbortController();
    const t = setTimeout(() => {
      latestRate(source, wanted, abort.signal).then(setLatest, (err: unknown) => {
        if (abort.signal.aborted) return;
        setLatest({
          error: err instanceof ApiError && err.status === 404 ? `No rate stored for ${wanted}.` : messageOf(err),
        });
      });
    }, 300);
    return () => {
      clearTimeout(t);
      abort.abort();
    };
  }, [source, wanted]);
  return (
    <div id="alert-latest" class="alert-latest" aria-live="polite">
      {latest && 'error' in latest && <p class="hint">{latest.error}</p>}
      {latest && 'value' in latest && (
        <Source>
          Latest {wanted}: <strong class="num">{groupDigits(latest.value)}</strong> · {latest.note}{' '}
          <time dateTime={latest.at} title={latest.at}>
            {source === 'cbr' ? latest.at : `${formatDateTime(latest.at)} (${ago(latest.at)})`}
          </time>
        </Source>
      )}
      {latest && 'warning' in latest && <p class="field-error">{latest.warning}</p>}
    </div>
  );
}

export function AlertForm({ onCreated }: { onCreated: (alert: AlertDto) => void }) {
  const [d, setD] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Messages>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setD((prev) => ({ ...prev, [key]: value }));
  const toggleChannel = (c: Channel, on: boolean) =>
    setD((prev) => ({
      ...prev,
      channels: on ? [...prev.channels.filter((x) => x !== c), c] : prev.channels.filter((x) => x !== c),
    }));

  const focusFirst = (messages: Messages) => {
    const first = Object.keys(FIELD_IDS).find((k) => messages[k]);
    if (first) requestAnimationFrame(() => form.current?.querySelector<HTMLElement>(`#${FIELD_IDS[first]}`)?.focus());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setFailure(undefined);
    const { body, messages } = checkDraft(d);
    const unplaced = Object.entries(messages).filter(([k]) => !FIELD_IDS[k]);
    setErrors(messages);
    if (!body) {
      setFailure(
        unplaced.length
          ? `Check the alert: ${unplaced.map(([k, m]) => (k ? `${k}: ${m}` : m)).join('; ')}.`
          : 'Check the fields marked below.',
      );
      focusFirst(messages);
      return;
    }
    setBusy(true);
    try {
      const alert = await request('/api/v1/alerts', { method: 'POST', body, schema: alertSchema });
      setD({ ...EMPTY, source: d.source, channels: d.channels, callbackUrl: d.callbackUrl });
      setErrors({});
      onCreated(alert);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const { messages: found, rest } = serviceMessages(err);
        setErrors(found);
        setFailure(rest.length ? `${err.message} (${rest.join('; ')})` : err.message);
        focusFirst(found);
      } else {
        setFailure(messageOf(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const level = d.type !== 'pct_change';
  const emailHint =
    me.value && !me.value.email_confirmed
      ? 'Mail goes to a confirmed address only: confirm yours on the Account page.'
      : undefined;
  return (
    <form
      ref={form}
      class="panel alert-form"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby="alert-form-title"
    >
      <h2 id="alert-form-title">New alert</h2>
      <FormError message={failure} />
      <div class="form-row">
        <Select
          id="alert-source"
          label="Source"
          value={d.source}
          options={[
            ['binance', `${SOURCE_WORDS.binance} spot price`],
            ['cbr', `${SOURCE_WORDS.cbr} rate in rubles`],
          ]}
          onChange={(v) => setD((prev) => ({ ...prev, source: v, window: v === 'cbr' ? '24h' : prev.window }))}
          error={errors['source']}
        />
        <Field
          id="alert-symbol"
          label="Symbol"
          value={d.symbol}
          autoComplete="off"
          autoCapitalize="characters"
          spellcheck={false}
          hint={d.source === 'cbr' ? 'A currency code, e.g. USD' : 'A Binance symbol, e.g. BTCUSDT'}
          error={errors['symbol']}
          onInput={(e) => set('symbol', e.currentTarget.value)}
        />
      </div>
      <LatestRate source={d.source} symbol={d.symbol} />
      <div class="form-row">
        <Select
          id="alert-type"
          label="Condition"
          value={d.type}
          options={Object.entries(CONDITION_LABELS) as [ConditionType, string][]}
          onChange={(v) => set('type', v)}
          hint={
            level
              ? d.type === 'above' || d.type === 'below'
                ? 'Also judged at once against the latest rate: if it already holds, the alert fires on creation.'
                : 'A crossing needs a rate change after the alert is created.'
              : 'The move against the rate one window before each observation.'
          }
          error={errors['condition.type']}
        />
        {level && (
          <Field
            id="alert-level"
            label="Level"
            inputMode="decimal"
            autoComplete="off"
            value={d.level}
            error={errors['condition.level']}
            onInput={(e) => set('level', e.currentTarget.value)}
          />
        )}
        {!level && (
          <>
            <Select
              id="alert-window"
              label="Window"
              value={d.window}
              options={(Object.keys(ALERT_WINDOWS) as ('1h' | '24h')[]).map(
                (w) => [w, w === '1h' ? '1 hour' : '24 hours'] as const,
              )}
              onChange={(v) => set('window', v)}
              error={errors['condition.window']}
            />
            <Field
              id="alert-threshold"
              label="Threshold (%)"
              inputMode="decimal"
              autoComplete="off"
              value={d.threshold}
              error={errors['condition.threshold_pct']}
              onInput={(e) => set('threshold', e.currentTarget.value)}
            />
            <Select
              id="alert-direction"
              label="Direction"
              value={d.direction}
              options={[
                ['both', 'Up or down'],
                ['up', 'Up'],
                ['down', 'Down'],
              ]}
              onChange={(v) => set('direction', v)}
              error={errors['condition.direction']}
            />
          </>
        )}
      </div>
      <div class="form-row">
        <Select
          id="alert-frequency"
          label="Frequency"
          value={d.frequency}
          options={Object.entries(FREQUENCY_WORDS) as [Draft['frequency'], string][]}
          onChange={(v) => set('frequency', v)}
          error={errors['frequency']}
        />
        <Field
          id="alert-cooldown"
          label="Cooldown (seconds)"
          inputMode="numeric"
          autoComplete="off"
          value={d.cooldown}
          hint="No firing sooner than this after the last one"
          error={errors['cooldown_seconds']}
          onInput={(e) => set('cooldown', e.currentTarget.value)}
        />
        {d.frequency === 'every_time' && (
          <Field
            id="alert-rearm"
            label="Re-arm after moving back (%)"
            inputMode="decimal"
            autoComplete="off"
            value={d.rearm}
            hint="Optional; 0 by default"
            error={errors['rearm_pct']}
            onInput={(e) => set('rearm', e.currentTarget.value)}
          />
        )}
        <Field
          id="alert-expires"
          label="Expires"
          type="datetime-local"
          value={d.expires}
          hint="Optional; your local time"
          error={errors['expires_at']}
          onInput={(e) => set('expires', e.currentTarget.value)}
        />
      </div>
      <fieldset
        class="alert-channels"
        aria-describedby={describedBy('alert-channels', emailHint, errors['channels'])}
        aria-invalid={errors['channels'] ? 'true' : undefined}
      >
        <legend>Send firings to</legend>
        {(Object.keys(CHANNEL_WORDS) as Channel[]).map((c) => (
          <label key={c} class="check" for={`alert-channel-${c}`}>
            <input
              type="checkbox"
              id={`alert-channel-${c}`}
              checked={d.channels.includes(c)}
              onChange={(e) => toggleChannel(c, e.currentTarget.checked)}
            />{' '}
            {CHANNEL_WORDS[c]}
            {c === 'ws' && <span class="muted"> (a notice here, while signed in)</span>}
          </label>
        ))}
        {emailHint && (
          <p id="alert-channels-hint" class="hint">
            {emailHint}
          </p>
        )}
        <FieldError id="alert-channels-error" message={errors['channels']} />
      </fieldset>
      {d.channels.includes('callback') && (
        <Field
          id="alert-callback"
          label="Callback URL"
          type="url"
          inputMode="url"
          autoComplete="url"
          class="wide"
          value={d.callbackUrl}
          hint="Firings are POSTed here, signed with your webhook secret"
          error={errors['callback_url']}
          onInput={(e) => set('callbackUrl', e.currentTarget.value)}
        />
      )}
      <p class="alert-summary muted">
        {d.symbol.trim() && (level ? d.level.trim() : d.threshold.trim())
          ? `Fires ${FREQUENCY_WORDS[d.frequency].toLowerCase()} when ${d.symbol.trim().toUpperCase()} ${summaryOf(d)}.`
          : ''}
      </p>
      <button type="submit" aria-disabled={busy ? 'true' : undefined}>
        {busy ? 'Creating…' : 'Create alert'}
      </button>
    </form>
  );
}

function summaryOf(d: Draft): string {
  return d.type === 'pct_change'
    ? describeCondition({ type: d.type, window: d.window, threshold_pct: d.threshold.trim(), direction: d.direction })
    : describeCondition({ type: d.type, level: d.level.trim() });
}
