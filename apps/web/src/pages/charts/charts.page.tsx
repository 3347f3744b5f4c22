import { Page } from '../../components/page.tsx';

export default function ChartsPage() {
  return <Page title="Charts">This page is being built.</Page>;
}
