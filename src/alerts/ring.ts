import type { Alert } from '../types.js';

// The recent alerts behind GET /api/alerts: a fixed-size ring. An update or
// resolve of an alert still in the ring replaces it in place.

export class AlertRing {
  private readonly slots: Array<Alert | undefined>;
  private readonly slotOf = new Map<string, number>();
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    this.slots = new Array<Alert | undefined>(size);
  }

  upsert(alert: Alert): void {
    const at = this.slotOf.get(alert.id);
    if (at !== undefined) {
      this.slots[at] = alert;
      return;
    }
    const evicted = this.slots[this.next];
    if (evicted) this.slotOf.delete(evicted.id);
    this.slots[this.next] = alert;
    this.slotOf.set(alert.id, this.next);
    this.next = (this.next + 1) % this.size;
    this.filled = Math.min(this.filled + 1, this.size);
  }

  /** Newest first. */
  recent(limit: number): Alert[] {
    const n = Math.max(0, Math.min(Math.floor(limit), this.filled));
    const out: Alert[] = [];
    for (let i = 1; i <= n; i++) out.push(this.slots[(this.next - i + this.size) % this.size]!);
    return out;
  }
}
