// The Alerts page: the signed-in account's rate alerts — a form to create one, the list with each
// alert's status (kept current: it reloads on every firing the console hears of), pause and resume,
// a test firing, deletion after a confirmation, and the firings of the alert picked (`?alert=<id>`,
// so it can be linked to). Signed out, it points to the Account page and back here.
import {
  ALERT_STATUSES,
  alertList,
  alertSchema,
  alertTestAccepted,
  type AlertDto,
  type AlertStatus,
} from '@ratewire/contracts/alerts.schemas';
import { useRef, useState } from 'preact/hooks';

import { LoadStatus } from '../../components/load-status.tsx';
import { Page, Source } from '../../components/page.tsx';
import { messageOf, request } from '../../core/api.ts';
import { formatTime } from '../../core/format.ts';
import { Link, navigate, queryParam } from '../../core/router.tsx';
import { me } from '../../core/session.ts';
import { useLoad } from '../../core/use.ts';
import { AlertFirings } from './alert-firings.tsx';
import { AlertForm } from './alert-form.tsx';
import { AlertTable, ConfirmDelete, alertName, type AlertAction } from './alert-list.tsx';
import { alertFirings } from './alert-toasts.tsx';
import './alerts.css';

const PAGE = 100;

type Notice = { tone: 'ok' | 'error'; text: string } | null;

function SignedOut() {
  return (
    <div class="panel">
      <p>Alerts belong to an account: sign in to create alerts, follow their status and get their notices here.</p>
      <p>
        <Link href="/account?next=/alerts">Log in or register</Link>
      </p>
    </div>
  );
}

function AlertsConsole() {
  const [filter, setFilter] = useState<AlertStatus | ''>('');
  const [limit, setLimit] = useState(PAGE);
  const [version, setVersion] = useState(0);
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<AlertDto | null>(null);
  const [firingsRefresh, setFiringsRefresh] = useState(0);
  const returnFocus = useRef<HTMLElement | null>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const firings = alertFirings.value;
  const [list, reload] = useLoad(
    async (signal) => {
      const page = await request('/api/v1/alerts', {
        query: { limit, status: filter || undefined },
        schema: alertList,
        signal,
      });
      return { ...page, readAt: new Date().toISOString() };
    },
    [filter, limit, firings, version],
  );
  const selectedId = queryParam('alert');
  const alerts = list.state === 'ready' ? list.value.items : [];
  const selected = alerts.find((a) => a.id === selectedId) ?? null;

  const failed = (what: string, err: unknown) => {
    setNotice({ tone: 'error', text: `${what}: ${messageOf(err)}` });
  };

  const act = async (a: AlertDto, action: AlertAction) => {
    const name = alertName(a);
    if (action === 'delete') {
      returnFocus.current = document.activeElement as HTMLElement | null;
      setConfirming(a);
      return;
    }
    setBusy(a.id);
    setNotice(null);
    try {
      if (action === 'test') {
        await request(`/api/v1/alerts/${a.id}/test`, { method: 'POST', schema: alertTestAccepted });
        setNotice({
          tone: 'ok',
          text: a.channels.includes('ws')
            ? `Test firing sent for ${name}; its notice follows here.`
            : `Test firing sent for ${name}. It does not send to this console: see its firings.`,
        });
        setFiringsRefresh((n) => n + 1);
      } else {
        const status = action === 'pause' ? 'paused' : 'active';
        const changed = await request(`/api/v1/alerts/${a.id}`, {
          method: 'PATCH',
          body: { status },
          schema: alertSchema,
        });
        setNotice({
          tone: 'ok',
          text:
            action === 'pause'
              ? `Paused ${name}.`
              : `Resumed ${name}${changed.status === 'triggered' ? ': its condition held, so it fired at once' : ''}.`,
        });
      }
      setVersion((v) => v + 1);
    } catch (err) {
      failed(action === 'test' ? `The test firing of ${name} failed` : `${name} could not be changed`, err);
    } finally {
      setBusy(null);
    }
  };

  const cancelDelete = () => {
    setConfirming(null);
    const back = returnFocus.current;
    requestAnimationFrame(() => back?.focus());
  };

  const confirmDelete = async () => {
    const a = confirming;
    if (!a) return;
    setBusy(a.id);
    try {
      await request(`/api/v1/alerts/${a.id}`, { method: 'DELETE' });
      setNotice({ tone: 'ok', text: `Deleted ${alertName(a)}.` });
      setConfirming(null);
      if (selectedId === a.id) navigate('/alerts', { replace: true });
      setVersion((v) => v + 1);
      requestAnimationFrame(() => listHeading.current?.focus());
    } catch (err) {
      setConfirming(null);
      failed(`${alertName(a)} could not be deleted`, err);
      requestAnimationFrame(() => returnFocus.current?.focus());
    } finally {
      setBusy(null);
    }
  };

  const created = (a: AlertDto) => {
    setNotice({
      tone: 'ok',
      text: `Created ${alertName(a)}${a.status === 'triggered' ? ': its condition already held, so it fired at once' : ''}.`,
    });
    setVersion((v) => v + 1);
  };

  return (
    <>
      <AlertForm onCreated={created} />
      <p role="status" class="alert-notice ok">
        {notice?.tone === 'ok' ? notice.text : ''}
      </p>
      <p role="alert" class="alert-notice error">
        {notice?.tone === 'error' ? notice.text : ''}
      </p>
      <section aria-labelledby="alerts-list-title">
        <div class="list-head">
          <h2 id="alerts-list-title" tabIndex={-1} ref={listHeading}>
            Your alerts
          </h2>
          <div class="field list-filter">
            <label for="alerts-filter">Show</label>
            <select
              id="alerts-filter"
              value={filter}
              onChange={(e) => {
                setFilter(e.currentTarget.value as AlertStatus | '');
                setLimit(PAGE);
              }}
            >
              <option value="">All</option>
              {ALERT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s[0]!.toUpperCase() + s.slice(1)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <LoadStatus loaded={list} what="the alerts" reload={reload} />
        {list.state === 'ready' && (
          <>
            <Source>
              {list.value.total} alert{list.value.total === 1 ? '' : 's'}
              {filter ? ` ${filter}` : ''}; statuses as of{' '}
              <time dateTime={list.value.readAt} title={list.value.readAt}>
                {formatTime(list.value.readAt)}
              </time>
              , read again on every firing.
            </Source>
            {alerts.length === 0 ? (
              <p>{filter ? `No ${filter} alerts.` : 'No alerts yet: create one above.'}</p>
            ) : (
              <AlertTable
                alerts={alerts}
                selected={selected?.id ?? null}
                busy={busy}
                onAction={(a, action) => void act(a, action)}
                onSelect={(a) => navigate(a ? `/alerts?alert=${a.id}` : '/alerts', { replace: true })}
              />
            )}
            {alerts.length < list.value.total && (
              <button type="button" class="secondary" onClick={() => setLimit((l) => l + PAGE)}>
                Show more alerts
              </button>
            )}
          </>
        )}
      </section>
      {selected && <AlertFirings alert={selected} refresh={firingsRefresh} />}
      {confirming && (
        <ConfirmDelete
          alert={confirming}
          busy={busy === confirming.id}
          onCancel={cancelDelete}
          onConfirm={() => void confirmDelete()}
        />
      )}
    </>
  );
}

export default function AlertsPage() {
  const user = me.value;
  return (
    <Page
      title="Alerts"
      intro="Rate alerts on Binance spot prices and CBR rates: a notice here, a callback or a mail when one fires."
    >
      {user === undefined && <p class="muted">Loading…</p>}
      {user === null && <SignedOut />}
      {user && <AlertsConsole />}
    </Page>
  );
}
