// The Account page for a signed-in user: the account (address, confirmed or not, a new confirmation
// mail), changing the password, logging out here or everywhere, then the API keys and the webhook
// secret.
import { changePasswordBody, type UserDto } from '@ratewire/contracts/auth.schemas';
import { useEffect, useState } from 'preact/hooks';

import { Field, FormError } from '../../components/field.tsx';
import { toast } from '../../components/toasts.tsx';
import { ApiError, request } from '../../core/api.ts';
import { formatDateTime } from '../../core/format.ts';
import { loadSession, logOut } from '../../core/session.ts';
import { ApiKeys } from './api-keys.tsx';
import { failureText, fieldsOf, issuesOf, type FieldMessages } from '../../core/form-errors.ts';
import { accountNotice } from './signed-out.tsx';
import { WebhookSecret } from './webhook-secret.tsx';

function Confirmation({ user }: { user: UserDto }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; ok: boolean }>();
  const resend = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      await request('/api/v1/auth/confirm/resend', { method: 'POST' });
      setMessage({
        ok: true,
        text: `We sent a new confirmation link to ${user.email}; the earlier links stop working.`,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setMessage({ ok: true, text: 'The address is already confirmed.' });
        void loadSession().catch(() => undefined);
      } else setMessage({ ok: false, text: failureText(err, 'Sending the mail') });
    } finally {
      setBusy(false);
    }
  };
  if (user.email_confirmed) {
    return (
      <p>
        <span class="badge badge-ok" data-confirmed="true">
          Confirmed
        </span>{' '}
        Your address is confirmed.
      </p>
    );
  }
  return (
    <div>
      <p>
        <span class="badge badge-warn" data-confirmed="false">
          Not confirmed
        </span>{' '}
        Open the link we mailed to {user.email} to confirm your address; until then, some changes are refused.
      </p>
      <p class="account-actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => void resend()}>
          {busy ? 'Sending…' : 'Resend the confirmation mail'}
        </button>
        <button type="button" class="secondary" onClick={() => void loadSession().catch(() => undefined)}>
          I confirmed it: check again
        </button>
      </p>
      <p role="status" class={message?.ok ? 'ok' : 'error'}>
        {message?.text}
      </p>
    </div>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    setDone(undefined);
    const parsed = changePasswordBody.safeParse({ current_password: current, new_password: next });
    if (!parsed.success) {
      setErrors(issuesOf(parsed.error));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await request('/api/v1/auth/password', { method: 'POST', body: parsed.data });
      setCurrent('');
      setNext('');
      setDone('The password is changed. Every other session of this account has ended; this one stays signed in.');
    } catch (err) {
      if (err instanceof ApiError && err.status === 403 && err.code !== 'session_required') {
        setErrors({ current_password: 'The current password is wrong.' });
      } else {
        setErrors(fieldsOf(err));
        setFailure(failureText(err, 'Changing the password'));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="password-title">
      <h2 id="password-title">Change the password</h2>
      <Field
        id="current-password"
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        error={errors['current_password']}
        onInput={(e) => setCurrent(e.currentTarget.value)}
      />
      <Field
        id="new-password"
        label="New password"
        type="password"
        autoComplete="new-password"
        hint="At least 8 characters. Your other sessions end."
        value={next}
        error={errors['new_password']}
        onInput={(e) => setNext(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p class="ok" role="status">
        {done}
      </p>
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Changing…' : 'Change the password'}
        </button>
      </p>
    </form>
  );
}

function Sessions() {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const out = async (everywhere: boolean) => {
    setBusy(true);
    setFailure(undefined);
    try {
      if (everywhere) await request('/api/v1/auth/logout-all', { method: 'POST' });
      await logOut();
      toast({ title: everywhere ? 'Logged out everywhere' : 'Logged out', tone: 'info' });
    } catch (err) {
      setFailure(failureText(err, 'Logging out'));
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p class="account-actions">
        <button type="button" disabled={busy} onClick={() => void out(false)}>
          Log out
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void out(true)}>
          Log out everywhere
        </button>
      </p>
      <p class="hint">Log out everywhere ends every session of this account, on every device.</p>
      <FormError message={failure} />
    </section>
  );
}

export function SignedIn({ user }: { user: UserDto }) {
  const notice = accountNotice.value;
  // a confirmation done in another tab shows when the reader comes back
  useEffect(() => {
    if (user.email_confirmed) return undefined;
    const onFocus = () => void loadSession().catch(() => undefined);
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, [user.email_confirmed]);
  useEffect(() => () => void (accountNotice.value = null), []);
  return (
    <div class="account-signed-in">
      {notice && (
        <p class="panel notice" role="status">
          {notice}
        </p>
      )}
      <section class="panel" aria-labelledby="account-title">
        <h2 id="account-title">Your account</h2>
        <dl class="account-facts">
          <dt>Email</dt>
          <dd data-testid="account-email">{user.email}</dd>
          {user.name && (
            <>
              <dt>Name</dt>
              <dd>{user.name}</dd>
            </>
          )}
          <dt>Role</dt>
          <dd>{user.role}</dd>
          <dt>Since</dt>
          <dd title={user.created_at}>{formatDateTime(user.created_at)}</dd>
        </dl>
        <Confirmation user={user} />
      </section>
      <div class="account-columns">
        <div class="panel">
          <ChangePassword />
        </div>
        <div class="panel">
          <Sessions />
        </div>
      </div>
      <ApiKeys />
      <WebhookSecret />
    </div>
  );
}
