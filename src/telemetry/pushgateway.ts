/**
 * Pushes the deployment markers to a Pushgateway: `PUT /metrics/job/airlock/site/<site>`
 * replaces the site's whole group, so series the site no longer has (a release rolled back)
 * go with it, as they do from the textfile. Prometheus scrapes the Pushgateway with
 * `honor_labels: true` (docs/TELEMETRY.md).
 */
import { exchange, refusedAuth, type Endpoint } from './http.js';
import { CONTENT_TYPE } from './exposition.js';
import { AirlockError } from '../base/errors.js';

export function pushPath(site: string): string {
  return `/metrics/job/airlock/site/${encodeURIComponent(site)}`;
}

export async function pushMarkers(endpoint: Endpoint, site: string, text: string, timeoutMs: number): Promise<void> {
  const answer = await exchange(endpoint, { method: 'PUT', path: pushPath(site), body: text, contentType: CONTENT_TYPE, timeoutMs, what: 'the push' });
  if (answer.status === 401 || answer.status === 403) throw refusedAuth(endpoint, answer.status);
  if (answer.status < 200 || answer.status > 299) {
    throw new AirlockError('TELEMETRY_UNREACHABLE', `${endpoint.url} answered HTTP ${answer.status} to the push${answer.text.trim() === '' ? '' : ` (${answer.text.trim().slice(0, 200)})`}`);
  }
}
