// @ratewire/money: money and rates as exact decimal strings — the one decimal helper, the exchange
// calculation, and JSON numbers read and written digit for digit.
export {
  add,
  dec,
  div,
  equal,
  isPositive,
  mul,
  normalize,
  roundFixed,
  unitRate,
  type DecimalValue,
} from './decimal.ts';
export { calculateExchange, type ExchangeBill, type ExchangeLine, type ExchangeResult } from './exchange.ts';
export { exactNumbers, jsonNumber, parseJsonExact, type JsonNumber } from './json.ts';
