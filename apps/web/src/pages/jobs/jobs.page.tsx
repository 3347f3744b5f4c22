// The Jobs page (/jobs): signed out, a link to log in and come back; signed in, the form that
// submits an exchange job and the list of the user's jobs, or one job's live view (/jobs?id=…).
import { Page } from '../../components/page.tsx';
import { Link, queryParam, route } from '../../core/router.tsx';
import { me } from '../../core/session.ts';
import { JobForm } from './job-form.tsx';
import { JobList } from './job-list.tsx';
import { JobView } from './job-view.tsx';
import './jobs.css';

export default function JobsPage() {
  const user = me.value;
  const id = queryParam('id');
  const here = route.value.path + route.value.search;
  return (
    <Page
      title="Jobs"
      intro="Exchange bills into rubles at a CBR rate or your own, calculated by a worker and followed live."
    >
      {user === undefined ? (
        <p class="muted">Checking the session…</p>
      ) : user === null ? (
        <p class="panel">
          Exchange jobs belong to an account.{' '}
          <Link href={`/account?next=${encodeURIComponent(here)}`}>Log in or register</Link> to submit and follow them.
        </p>
      ) : id !== null ? (
        <JobView key={id} id={id} />
      ) : (
        <>
          <JobForm />
          <JobList />
        </>
      )}
    </Page>
  );
}
