import { Page } from '../../components/page.tsx';

export default function ConvertPage() {
  return <Page title="Convert">This page is being built.</Page>;
}
