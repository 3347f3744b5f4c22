import { systemProject } from '../../vitest.shared.ts';

// A rolling restart of three api processes behind the local mode's nginx, with a thousand live
// sockets and steady reads: no frame lost or repeated, no failed request (rolling-restart.spec.ts).
export default systemProject('rolling-restart', ['test/rolling-restart/*.spec.ts'], {
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
