// The Account page (/account): signed out, logging in, registering and asking for a password-reset
// link; signed in, the account, its password and sessions, its API keys and its webhook secret.
import { Page } from '../../components/page.tsx';
import { me } from '../../core/session.ts';
import './account.css';
import { SignedIn } from './signed-in.tsx';
import { SignedOut } from './signed-out.tsx';

export default function AccountPage() {
  const user = me.value;
  return (
    <Page
      title="Account"
      intro={user ? `Signed in as ${user.email}.` : 'Log in, or create an account to run exchange jobs and alerts.'}
    >
      {user === undefined ? (
        <p class="muted">Checking the session…</p>
      ) : user ? (
        <SignedIn user={user} />
      ) : (
        <SignedOut />
      )}
    </Page>
  );
}
