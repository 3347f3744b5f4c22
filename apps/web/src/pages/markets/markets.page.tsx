// The markets page at /: Binance spot prices of every symbol that trades, live, and the latest
// official CBR rates with their effective date. Part of the console's first load.
import { Page } from '../../components/page.tsx';
import { BinanceTable } from './binance-table.tsx';
import { CbrTable } from './cbr-table.tsx';
import './markets.css';

export default function MarketsPage() {
  return (
    <Page title="Markets" intro="Live prices from Binance spot and the official rates of the Central Bank of Russia.">
      <BinanceTable />
      <CbrTable />
    </Page>
  );
}
