// The Binance part of the markets page: every TRADING symbol's price in a searchable, sortable,
// virtualised table (a fixed row height; only the rows in view and a few around them are in the
// DOM) that follows `rates.binance`. An event changes the rows it names in a Map and re-renders the
// window only if one of them is in view; sorted by a live column, the list is sorted again at most
// every 250 ms. After a reconnect or a reset the snapshot is read again over REST and merged, so
// frames lost while away are caught up without reloading the page.
import { useSignal, type Signal } from '@preact/signals';
import { binancePricesResponse } from '@ratewire/contracts/binance.schemas';
import { SUBJECTS, binanceUpdatedEvent } from '@ratewire/contracts/events.schemas';
import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';
import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { Source } from '../../components/page.tsx';
import { messageOf, request } from '../../core/api.ts';
import { formatTime, groupDigits, trimZeros } from '../../core/format.ts';
import { connection } from '../../core/live.ts';
import { useChannel } from '../../core/use.ts';
import {
  LIVE_SORT_KEYS,
  Market,
  ROW_HEIGHT,
  orderRows,
  searchProblem,
  type MarketRow,
  type SortKey,
  type SortOrder,
} from './binance-market.ts';

/** Rows rendered above and below the ones in view. */
const OVERSCAN = 8;
/** The shortest time between two sorts while prices move. */
const RESORT_MS = 250;
/** The mark the page sets when the table first shows rows (read by the load budget). */
export const ROWS_SHOWN_MARK = 'markets:rows-shown';

const COLUMNS: { key: SortKey; label: string; className: string }[] = [
  { key: 'symbol', label: 'Symbol', className: 'col-symbol' },
  { key: 'price', label: 'Price', className: 'col-price num' },
  { key: 'change', label: 'Change', className: 'col-change num' },
  { key: 'updated', label: 'Last update', className: 'col-updated hide-narrow' },
];

/** The first order each column sorts in when its button is pressed. */
const FIRST_DIRECTION: Record<SortKey, SortOrder['direction']> = {
  symbol: 'ascending',
  price: 'descending',
  change: 'descending',
  updated: 'descending',
};

const count = (n: number) => groupDigits(String(n));

const readSnapshot = () => request('/api/v1/rates/binance', { schema: binancePricesResponse, cache: 'no-cache' });

/**
 * Opened at /, the console asks for the snapshot as soon as this module runs, before the first
 * render; the table's first read takes that answer.
 */
let early: ReturnType<typeof readSnapshot> | undefined =
  typeof location !== 'undefined' && location.pathname === '/' ? readSnapshot() : undefined;
early?.catch(() => undefined);

interface RowProps {
  row: MarketRow;
  /** The row's change counter: the row renders again only when it or its place changed. */
  seq: number;
  index: number;
}

class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.seq !== this.props.seq || next.index !== this.props.index || next.row !== this.props.row;
  }

  override render({ row, index }: RowProps) {
    const dir = row.direction;
    const flash = dir && row.seq ? ` flash-${dir}` : '';
    const tone = dir ? ` ${dir}` : '';
    const at = row.updatedAt;
    const when = at ? `${row.caughtUp ? 'changed by' : 'updated'} ${at}` : 'unchanged since the snapshot';
    return (
      <tr aria-rowindex={index + 2} data-symbol={row.symbol}>
        <th scope="row">{row.symbol}</th>
        <td class="num" title={`${row.price} · ${when}`}>
          <span key={row.seq} class={`price${tone}${flash}`} data-price={row.price}>
            {groupDigits(trimZeros(row.price))}
          </span>
        </td>
        <td class={`num${tone}`} title={row.change !== null ? `${row.previous} → ${row.price}` : undefined}>
          {row.percent !== null ? (
            <span key={row.seq} class={`change${flash}`}>
              <span aria-hidden="true">{dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : ''}</span>
              {dir === 'up' ? '+' : ''}
              {row.percent} %
            </span>
          ) : (
            <span class="muted" title="no change seen since the page opened">
              —
            </span>
          )}
        </td>
        <td class="hide-narrow">
          {at ? (
            <time dateTime={at} title={when}>
              {row.caughtUp ? '≤ ' : ''}
              {formatTime(at)}
            </time>
          ) : (
            <span class="muted" title={when}>
              —
            </span>
          )}
        </td>
      </tr>
    );
  }
}

function SortHeader({
  column,
  order,
  onSort,
}: {
  column: (typeof COLUMNS)[number];
  order: SortOrder;
  onSort: (key: SortKey) => void;
}) {
  const active = order.key === column.key;
  const arrow = active ? (order.direction === 'ascending' ? '↑' : '↓') : '↕';
  return (
    <th scope="col" class={column.className} aria-sort={active ? order.direction : undefined}>
      <button type="button" class="sort" onClick={() => onSort(column.key)}>
        {column.label} <span aria-hidden="true">{arrow}</span>
        {active && <span class="visually-hidden">, sorted {order.direction}</span>}
      </button>
    </th>
  );
}

/** An ISO time as HH:MM:SS with the instant in its tooltip. */
function At({ iso, empty }: { iso: string | null; empty: string }) {
  if (!iso) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}

/** The time of the last event: its own component, so an event re-renders only this. */
function LastEvent({ at }: { at: Signal<string | null> }) {
  return <At iso={at.value} empty="none yet" />;
}

type LoadState = { state: 'loading' } | { state: 'ready' } | { state: 'failed'; error: string };

export function BinanceTable() {
  const market = useMemo(() => new Market(), []);
  const lastEvent = useSignal<string | null>(null);
  const snapshotAt = useSignal<string | null>(null);
  const [load, setLoad] = useState<LoadState>({ state: 'loading' });
  const [catchUpError, setCatchUpError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [order, setOrder] = useState<SortOrder>({ key: 'symbol', direction: 'ascending' });
  /** Bumped to build the filtered, sorted list again. */
  const [listVersion, setListVersion] = useState(0);
  /** Bumped to re-render the rows in view. */
  const [, setTick] = useState(0);
  const [first, setFirst] = useState(0);
  const [windowRows, setWindowRows] = useState(40);
  const scroller = useRef<HTMLDivElement>(null);
  const visible = useRef(new Set<string>());
  const orderRef = useRef(order);
  orderRef.current = order;
  const resort = useRef<{ timer: ReturnType<typeof setTimeout> | undefined; last: number }>({
    timer: undefined,
    last: 0,
  });
  const reads = useRef({ started: 0, applied: 0 });
  const marked = useRef(false);

  const problem = searchProblem(search);

  /** Sorts again now, or when RESORT_MS has passed since the last sort. */
  const scheduleResort = () => {
    const r = resort.current;
    if (r.timer !== undefined) return;
    r.timer = setTimeout(
      () => {
        r.timer = undefined;
        r.last = Date.now();
        setListVersion((v) => v + 1);
      },
      Math.max(0, r.last + RESORT_MS - Date.now()),
    );
  };

  /** Reads the snapshot and merges it (an answer older than one already merged is dropped). */
  const read = async () => {
    const mine = ++reads.current.started;
    try {
      const pending = early ?? readSnapshot();
      early = undefined;
      const body = await pending;
      if (mine < reads.current.applied) return;
      reads.current.applied = mine;
      const result = market.applySnapshot(body);
      snapshotAt.value = market.snapshotAt;
      setCatchUpError(null);
      setLoad({ state: 'ready' });
      if (result.membership || (result.changed.length && LIVE_SORT_KEYS.has(orderRef.current.key))) {
        setListVersion((v) => v + 1);
      }
      setTick((t) => t + 1);
    } catch (err) {
      if (market.snapshotReadAt === null) setLoad({ state: 'failed', error: messageOf(err) });
      else setCatchUpError(messageOf(err));
    }
  };

  useEffect(() => {
    void read();
    return () => clearTimeout(resort.current.timer);
  }, []);

  const onEvent = (frame: WsEventFrame) => {
    if (frame.event !== SUBJECTS.ratesBinanceUpdated) return;
    const parsed = binanceUpdatedEvent.safeParse(frame.data);
    if (!parsed.success) {
      console.warn(`markets: a ${frame.event} frame (${frame.id}) does not match its contract; skipped`);
      return;
    }
    const result = market.applyEvent(parsed.data);
    lastEvent.value = market.lastEventTs;
    if (result.membership || (result.changed.length && LIVE_SORT_KEYS.has(orderRef.current.key))) scheduleResort();
    if (result.changed.some((s) => visible.current.has(s))) setTick((t) => t + 1);
  };
  useChannel('rates.binance', {
    event: onEvent,
    // the first confirmation may come after the snapshot was read, a later one after frames were
    // missed: read it again either way (the merge keeps whatever is newer)
    subscribed: () => void read(),
    reset: () => void read(),
  });

  // the search applies once it is valid; the list starts again at its top
  useEffect(() => {
    if (problem) return;
    setApplied(search.trim());
  }, [search, problem]);
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setFirst(0);
  }, [applied]);

  const list = useMemo(
    () =>
      market.snapshotReadAt === null && market.rows.size === 0 ? [] : orderRows(market.rows.values(), applied, order),
    [applied, order, listVersion, load.state],
  );

  // how many rows fit: measured, and again when the scroll box changes size
  useEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const fit = () => setWindowRows(Math.ceil(el.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN);
    fit();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(fit);
    observer.observe(el);
    return () => observer.disconnect();
  }, [load.state]);

  const onScroll = (e: Event) => {
    const top = (e.currentTarget as HTMLElement).scrollTop;
    const next = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    if (next !== first) setFirst(next);
  };

  const onSort = (key: SortKey) =>
    setOrder((o) =>
      o.key === key
        ? { key, direction: o.direction === 'ascending' ? 'descending' : 'ascending' }
        : { key, direction: FIRST_DIRECTION[key] },
    );

  const start = Math.max(0, Math.min(first, list.length - windowRows));
  const end = Math.min(list.length, start + windowRows);
  const rows = list.slice(start, end);
  visible.current = new Set(rows.map((r) => r.symbol));

  useEffect(() => {
    if (rows.length && !marked.current) {
      marked.current = true;
      performance.mark(ROWS_SHOWN_MARK);
    }
  });

  const total = market.rows.size;
  const countText =
    load.state !== 'ready'
      ? 'Loading the symbols…'
      : applied
        ? `Showing ${count(list.length)} of ${count(total)} symbols`
        : `${count(total)} symbols`;
  const sortedBy = COLUMNS.find((c) => c.key === order.key)!.label.toLowerCase();
  const live = connection.value.state === 'live';

  return (
    <section class="market" aria-labelledby="binance-title">
      <h2 id="binance-title">Binance spot</h2>
      <Source>
        Binance spot · last event <LastEvent at={lastEvent} /> · snapshot{' '}
        <At iso={snapshotAt.value} empty="with no prices yet" />
      </Source>
      <div class="market-tools">
        <div class="market-search">
          <label for="market-search">Search symbols</label>
          <input
            id="market-search"
            type="search"
            value={search}
            autoComplete="off"
            spellcheck={false}
            maxLength={60}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'market-search-hint market-search-error' : 'market-search-hint'}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
          <p id="market-search-hint" class="hint">
            Part of a symbol (btc, usdt), or base/quote: BTC/ or /USDT.
          </p>
          {problem && (
            <p id="market-search-error" class="field-error" role="alert">
              {problem}
            </p>
          )}
        </div>
        <p id="market-count" class="market-count" role="status">
          {countText}
        </p>
      </div>
      {!live && load.state === 'ready' && (
        <p class="hint" role="status">
          Not live: prices may be behind; they catch up when the connection is back.
        </p>
      )}
      {catchUpError && (
        <p class="field-error" role="alert">
          The prices could not be read again ({catchUpError}); they follow the events meanwhile.
        </p>
      )}
      {load.state === 'failed' ? (
        <div role="alert">
          <p class="error">The Binance prices could not be read: {load.error}</p>
          <button type="button" onClick={() => void read()}>
            Try again
          </button>
        </div>
      ) : (
        <div
          class="market-scroll"
          ref={scroller}
          tabIndex={0}
          role="region"
          aria-label="Binance prices (scrollable)"
          aria-describedby="market-count"
          onScroll={onScroll}
        >
          <table class="market-table" aria-rowcount={list.length + 1}>
            <caption class="visually-hidden">
              Binance spot prices of the symbols that trade{applied ? `, matching ${applied}` : ''}, sorted by{' '}
              {sortedBy}, {order.direction}
            </caption>
            <colgroup>
              {COLUMNS.map((c) => (
                <col key={c.key} class={c.className} />
              ))}
            </colgroup>
            <thead>
              <tr aria-rowindex={1}>
                {COLUMNS.map((c) => (
                  <SortHeader key={c.key} column={c} order={order} onSort={onSort} />
                ))}
              </tr>
            </thead>
            <tbody>
              {start > 0 && (
                <tr class="spacer" aria-hidden="true">
                  <td colSpan={COLUMNS.length} style={{ height: `${start * ROW_HEIGHT}px` }} />
                </tr>
              )}
              {rows.map((r, i) => (
                <Row key={r.symbol} row={r} seq={r.seq} index={start + i} />
              ))}
              {end < list.length && (
                <tr class="spacer" aria-hidden="true">
                  <td colSpan={COLUMNS.length} style={{ height: `${(list.length - end) * ROW_HEIGHT}px` }} />
                </tr>
              )}
            </tbody>
          </table>
          {load.state === 'ready' && list.length === 0 && (
            <p class="market-empty">
              {applied
                ? `No symbol matches “${applied}”.`
                : snapshotAt.value === null
                  ? 'No prices are stored yet: the worker has not had an answer from Binance (the header shows the feed’s state). They appear here as soon as it does.'
                  : 'No symbol trades now.'}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
