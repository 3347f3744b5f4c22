// The REST features' services, built once and shared by their routes and the compatible aliases.
import type { ApiDeps } from './deps.ts';
import { createAuthService, type AuthService } from './auth/auth.service.ts';
import { LoginLimiter } from './auth/login-limiter.ts';
import { watchCacheEvents } from './cache/cache.events.ts';
import { ResponseCache } from './cache/response-cache.ts';
import { CurrenciesService } from './currencies/currencies.service.ts';
import { ExchangeService } from './exchange/exchange.service.ts';
import { RatesService } from './rates/rates.service.ts';
import { TasksService } from './tasks/tasks.service.ts';

export interface RestServices {
  auth: AuthService;
  currencies: CurrenciesService;
  rates: RatesService;
  exchange: ExchangeService;
  tasks: TasksService;
  cache: ResponseCache;
  /** Stops the cache's event subscriptions. */
  close(): Promise<void>;
}

export const DEFAULT_REDIS_PREFIX = 'rw:';

const SYMBOL = /^[A-Z0-9]{2,30}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The reads the fast lane may answer from the cache: their paths without a query string. */
function registerHotReads(cache: ResponseCache): void {
  const hot = cache.hot;
  hot.add('/api/v1/rates/binance', { family: 'binance', key: 'binance:all', route: '/api/v1/rates/binance' });
  hot.addPrefix('/api/v1/rates/binance/', (symbol) =>
    SYMBOL.test(symbol)
      ? { family: 'binance', key: `binance:sym:${symbol}`, route: '/api/v1/rates/binance/:symbol' }
      : undefined,
  );
  hot.add('/api/v1/rates/cbr/latest', { family: 'cbr', key: 'cbr:latest', route: '/api/v1/rates/cbr/latest' });
  hot.addPrefix('/api/v1/rates/cbr/', (day) =>
    DAY.test(day) ? { family: 'cbr', key: `cbr:date:${day}`, route: '/api/v1/rates/cbr/:date' } : undefined,
  );
  // the lists' default page (limit 100 / 1000, offset 0), as keyed by CurrenciesService.cachedList
  hot.add('/api/v1/currencies', { family: 'currencies', key: 'currencies:list:100:0', route: '/api/v1/currencies' });
  hot.add('/currencies', { family: 'currencies', key: 'currencies:compat:1000:0', route: '/currencies' });
  hot.add('/symbols/get/all', { family: 'binance', key: 'binance:compat:all', route: '/symbols/get/all' });
}

export function createRestServices(deps: ApiDeps): RestServices {
  const { db, nats, redis, log, settings } = deps;
  const prefix = deps.redisPrefix ?? DEFAULT_REDIS_PREFIX;
  const cache = new ResponseCache({ redis, prefix, log });
  const rates = new RatesService({ db, nats, log, cache });
  const unwatch = watchCacheEvents(nats, cache, log);
  registerHotReads(cache);
  return {
    auth: createAuthService({ db, settings, limiter: new LoginLimiter(redis, prefix) }),
    currencies: new CurrenciesService({ db, nats, log, cache }),
    rates,
    exchange: new ExchangeService(db),
    tasks: new TasksService({ db, nats, redis, log }),
    cache,
    close: unwatch,
  };
}
