// A user's own webhook secret: it signs the callbacks sent to the addresses that user supplies
// (a job's `callback_url`). Read with GET /api/v1/webhooks/secret, replaced with POST …/rotate.
import { z } from 'zod';

export const webhookSecretSchema = z
  .object({
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
      .meta({
        description:
          'Current secret: `whsec_` + base64 of 32 random bytes. The HMAC-SHA256 key is the decoded bytes ' +
          '(Standard Webhooks). Keep it private.',
        examples: [`whsec_${'A'.repeat(43)}=`],
      }),
    created_at: z.string().meta({ description: 'When the current secret was issued (ISO 8601, UTC)' }),
    previous_expires_at: z
      .string()
      .nullable()
      .meta({
        description:
          'Until when the secret replaced by the last rotation still signs: callbacks carry both signatures until ' +
          'then. Null when no replaced secret is still valid.',
      }),
  })
  .meta({ id: 'WebhookSecret' });

export type WebhookSecretDto = z.infer<typeof webhookSecretSchema>;
