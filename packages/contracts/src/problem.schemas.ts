// RFC 9457 problem details, the body of every error answer.
import { z } from 'zod';

export const fieldErrorSchema = z.object({
  path: z.string().meta({ description: 'Dotted path of the offending field, e.g. `bills.0.count`' }),
  message: z.string(),
});

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().meta({ description: 'Stable machine-readable error code' }),
    request_id: z.string().optional(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;
export type FieldError = z.infer<typeof fieldErrorSchema>;
