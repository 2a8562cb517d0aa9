/** Prometheus metrics of the webhook, on the registry the host process scrapes (the daemon's, the operator's). */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ReviewOutcome } from './review.js';
import type { ReviewObserver } from './server.js';

/** Registers the webhook's counter and latency histogram; the observer goes to `createWebhookServer`'s `onReview`. */
export function webhookMetrics(registry: Registry): ReviewObserver {
  const reviews = new Counter<'outcome'>({
    name: 'akash_ip_webhook_reviews_total',
    help: 'Admission reviews answered, by outcome (every outcome allows the pod)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'akash_ip_webhook_review_seconds',
    help: 'Time to answer an admission review',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2],
    registers: [registry],
  });
  return (outcome: ReviewOutcome, elapsed: number) => {
    reviews.inc({ outcome });
    seconds.observe(elapsed);
  };
}
