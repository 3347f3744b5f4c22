import { Page } from '../../components/page.tsx';

export default function JobsPage() {
  return <Page title="Jobs">This page is being built.</Page>;
}
