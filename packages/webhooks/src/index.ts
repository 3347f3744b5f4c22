// @ratewire/webhooks: the Standard Webhooks secret format, signature and check, written once for the
// side that issues secrets (db, api) and the side that signs callbacks (worker).
export { generateWebhookSecret, signWebhook, verifyWebhook, webhookSecretKey } from './webhooks.ts';
