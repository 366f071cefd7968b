import type { Alert } from '../types.js';

/**
 * What sinks deliver: an alert and where its incident stands. `firing` is
 * the first alert of an incident, `update` carries a higher count and a
 * later last_seen, `resolved` is sent when the incident has gone quiet.
 * All three carry the same alert id.
 */
export type NotificationKind = 'firing' | 'update' | 'resolved';

export interface Notification {
  readonly kind: NotificationKind;
  readonly alert: Alert;
}
