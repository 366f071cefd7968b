// Numbers in finding summaries: readable, with no false precision.

export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return Math.round(x).toString();
  if (a >= 10) return (Math.round(x * 10) / 10).toString();
  return (Math.round(x * 100) / 100).toString();
}

export function usd(x: number): string {
  if (x >= 100) return `$${Math.round(x).toLocaleString('en-US')}`;
  return `$${x >= 1 ? x.toFixed(2) : x.toFixed(4)}`;
}

export function percent(x: number): string {
  return `${num(100 * x)}%`;
}

/** A duration as "7 days", "2.5 days", "5 hours", "12 minutes". */
export function span(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 90) return `${Math.max(1, Math.round(minutes))} minutes`;
  const hours = minutes / 60;
  if (hours < 36) return `${num(hours)} hours`;
  const days = hours / 24;
  return `${num(days)} days`;
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Hour of the week (Monday 00:00 UTC = 0) as "Saturday 03:00–04:00 UTC". */
export function hourOfWeekLabel(slot: number): string {
  const h = slot % 24;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[Math.floor(slot / 24)]} ${pad(h)}:00–${pad((h + 1) % 24)}:00 UTC`;
}
