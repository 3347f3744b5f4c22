import { mergeConfig } from 'vitest/config';

import { project } from '../../vitest.shared.ts';

export default mergeConfig(project('api'), { test: { globalSetup: ['./test/console-build.ts'] } });
