import { Page } from '../../components/page.tsx';

export default function MarketsPage() {
  return <Page title="Markets">This page is being built.</Page>;
}
