// Shared OpenAPI response entries for problem+json errors.
import { problemSchema } from '@ratewire/contracts';

import type { ResponseSpec } from './route.ts';

export const problem = (description: string): ResponseSpec => ({
  description,
  schema: problemSchema,
  contentType: 'application/problem+json',
});

export const UNAUTHORIZED = problem('No valid bearer token');
export const FORBIDDEN = problem('Needs the admin role');
export const INVALID = problem('Invalid input (field errors listed)');
export const NOT_FOUND = problem('Not found');
