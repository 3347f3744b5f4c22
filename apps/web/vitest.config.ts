import { mergeConfig } from 'vitest/config';

import { project } from '../../vitest.shared.ts';

// the browser tests drive the built console: build it once per run (when its inputs changed)
export default mergeConfig(project('web'), { test: { globalSetup: ['./test/build-once.ts'] } });
