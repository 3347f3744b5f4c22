// The Account page for a visitor: three tabs (Log in, Register, Forgot password). Each form checks
// its fields with the contract before sending and shows the service's answer in words. After a
// login or a registration the console is signed in (the session is an HttpOnly cookie) and the
// page follows `?next=` when it names a console page.
import { signal } from '@preact/signals';
import { passwordResetBody, registerBody } from '@ratewire/contracts/auth.schemas';
import { CONSOLE_PAGES } from '@ratewire/contracts/console';
import { useRef, useState } from 'preact/hooks';

import { Field, FormError } from '../../components/field.tsx';
import { ApiError, messageOf, request } from '../../core/api.ts';
import { navigate, queryParam } from '../../core/router.tsx';
import { logIn } from '../../core/session.ts';
import { failureText, fieldsOf, issuesOf, type FieldMessages } from '../../core/form-errors.ts';

/** A notice the signed-in view shows once (set by a registration, just before the view changes). */
export const accountNotice = signal<string | null>(null);

type Tab = 'login' | 'register' | 'forgot';
const TABS: { id: Tab; label: string }[] = [
  { id: 'login', label: 'Log in' },
  { id: 'register', label: 'Register' },
  { id: 'forgot', label: 'Forgot password' },
];

/** `?next=` when it is a page of this console (never another site). */
export function nextPath(): string | null {
  const next = queryParam('next');
  if (!next || !next.startsWith('/') || next.startsWith('//')) return null;
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin || url.pathname === '/account') return null;
    return CONSOLE_PAGES.some((p) => p.path === url.pathname) ? url.pathname + url.search : null;
  } catch {
    return null;
  }
}

function afterSignIn(): void {
  const next = nextPath();
  if (next) navigate(next, { replace: true });
}

function LoginForm() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const found: FieldMessages = {};
    if (!email.trim()) found['email'] = 'Enter your email address.';
    if (!password) found['password'] = 'Enter your password.';
    setErrors(found);
    setFailure(undefined);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await logIn(email.trim(), password);
      afterSignIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setFailure('Wrong email or password.');
      else setFailure(failureText(err, 'Logging in'));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label="Log in">
      <Field
        id="login-email"
        label="Email"
        type="email"
        autoComplete="username"
        value={email}
        error={errors['email']}
        onInput={(e) => setEmail(e.currentTarget.value)}
      />
      <Field
        id="login-password"
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        error={errors['password']}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </p>
    </form>
  );
}

function RegisterForm() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const parsed = registerBody.safeParse({ email, password, ...(name.trim() ? { name } : {}) });
    if (!parsed.success) {
      setErrors(issuesOf(parsed.error));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await request('/api/v1/auth/register', { method: 'POST', body: parsed.data });
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 409) {
        setFailure('An account with this email already exists. Log in, or reset its password.');
      } else if (err instanceof ApiError && err.fields.length) {
        setErrors(fieldsOf(err));
        setFailure(failureText(err, 'Registering'));
      } else {
        setFailure(failureText(err, 'Registering'));
      }
      return;
    }
    const sent =
      `We sent a confirmation link to ${parsed.data.email}. Open it to confirm your address ` +
      '(the link works for 24 hours).';
    try {
      accountNotice.value = sent;
      await logIn(parsed.data.email, password);
      afterSignIn();
    } catch (err) {
      // the account exists: only the sign-in that follows failed
      accountNotice.value = null;
      setBusy(false);
      setFailure(`Your account was created. ${sent} Logging in right away did not work (${messageOf(err)}): log in.`);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label="Register">
      <Field
        id="register-email"
        label="Email"
        type="email"
        autoComplete="email"
        value={email}
        error={errors['email']}
        onInput={(e) => setEmail(e.currentTarget.value)}
      />
      <Field
        id="register-password"
        label="Password"
        type="password"
        autoComplete="new-password"
        hint="At least 8 characters."
        value={password}
        error={errors['password']}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
      <Field
        id="register-name"
        label="Name (optional)"
        autoComplete="name"
        value={name}
        error={errors['name']}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Registering…' : 'Register'}
        </button>
      </p>
    </form>
  );
}

function ForgotForm() {
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<FieldMessages>({});
  const [failure, setFailure] = useState<string>();
  const [sent, setSent] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    setSent(undefined);
    const parsed = passwordResetBody.safeParse({ email });
    if (!parsed.success) {
      setErrors(issuesOf(parsed.error));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await request('/api/v1/auth/password-reset', { method: 'POST', body: parsed.data });
      setSent(
        `If an account exists for ${parsed.data.email}, we sent it a link to set a new password. ` +
          'The link works once, for 30 minutes.',
      );
    } catch (err) {
      setFailure(failureText(err, 'Asking for a reset link'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label="Forgot password">
      <Field
        id="forgot-email"
        label="Email"
        type="email"
        autoComplete="email"
        value={email}
        error={errors['email']}
        onInput={(e) => setEmail(e.currentTarget.value)}
      />
      <FormError message={failure} />
      <p class="ok" role="status">
        {sent}
      </p>
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send the reset link'}
        </button>
      </p>
    </form>
  );
}

export function SignedOut() {
  const [tab, setTab] = useState<Tab>('login');
  const buttons = useRef<Record<string, HTMLButtonElement | null>>({});
  // arrow keys, Home and End move between the tabs (the tabs pattern of WAI-ARIA)
  const onKey = (e: KeyboardEvent) => {
    const at = TABS.findIndex((t) => t.id === tab);
    const to =
      e.key === 'ArrowRight'
        ? (at + 1) % TABS.length
        : e.key === 'ArrowLeft'
          ? (at + TABS.length - 1) % TABS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? TABS.length - 1
              : -1;
    if (to < 0) return;
    e.preventDefault();
    const id = TABS[to]!.id;
    setTab(id);
    buttons.current[id]?.focus();
  };
  const next = nextPath();
  return (
    <div class="account-signed-out">
      {next && <p class="hint">Log in to open {next}.</p>}
      <div role="tablist" aria-label="Account" class="tabs" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            class="tab"
            ref={(el) => {
              buttons.current[t.id] = el;
            }}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {TABS.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`panel-${t.id}`}
          aria-labelledby={`tab-${t.id}`}
          hidden={tab !== t.id}
          class="panel tab-panel"
        >
          {tab === t.id && (t.id === 'login' ? <LoginForm /> : t.id === 'register' ? <RegisterForm /> : <ForgotForm />)}
        </div>
      ))}
    </div>
  );
}
