// The async exchange service’s calculation, shared by the api (answered at once) and the worker (jobs):
// subtotal = denomination × count × rate, exact, rounded half-up to 2 places; total = Σ subtotals.
import { add, mul, roundFixed } from './decimal.ts';

export interface ExchangeBill {
  denomination_id: number;
  /** Face value as an exact decimal string. */
  denomination: string;
  count: number;
}

export interface ExchangeLine {
  denomination_id: number;
  /** Rubles, exactly 2 places. */
  subtotal_rub: string;
}

export interface ExchangeResult {
  breakdown: ExchangeLine[];
  /** Sum of the rounded subtotals, exactly 2 places. */
  total_rub: string;
}

/** `rate` is rubles for one unit of the bills' currency (a decimal string). Lines keep the input order. */
export function calculateExchange(rate: string, bills: readonly ExchangeBill[]): ExchangeResult {
  const breakdown = bills.map((bill) => ({
    denomination_id: bill.denomination_id,
    subtotal_rub: roundFixed(mul(bill.denomination, bill.count, rate), 2),
  }));
  return { breakdown, total_rub: roundFixed(add(...breakdown.map((line) => line.subtotal_rub)), 2) };
}
