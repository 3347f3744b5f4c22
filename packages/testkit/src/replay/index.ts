export { FIXTURES_DIR, fixturePath, readFixture, listCbrDailyFixtures, resolveCbrDailyFixture } from './fixtures.ts';
export { parseCbrDate, formatCbrDate, spliceBytes, type CbrDailyFixture } from './fixtures.ts';
export {
  BINANCE_JSON_CONTENT_TYPE,
  CBR_XML_CONTENT_TYPE,
  replayBody,
  type ReplayHandler,
  type ReplayRequest,
  type ReplayResponse,
} from './responses.ts';
export { DEFAULT_BINANCE_FIXTURES, emptyValCurs, type BinanceFixtures } from './feeds.ts';
export { startReplayServer, type ReplayServer, type ReplayServerOptions } from './replay-server.ts';
export { brokenResponses, type BrokenKind, type BrokenResponse, type BrokenResponseName } from './broken-responses.ts';
