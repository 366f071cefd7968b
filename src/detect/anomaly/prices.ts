import type { ModelPrice } from './config.js';
import { memoize } from './memo.js';
import type { PriceTable } from './rules.js';

// Resolves a model name to its price once and remembers the answer (bounded),
// so the per-request cost is one Map lookup.

export type PriceLookup = (model: string | undefined) => ModelPrice;

export function createPriceLookup(table: PriceTable): PriceLookup {
  const exact = new Map(Object.entries(table.models).map(([k, v]) => [k.toLowerCase(), v] as const));
  // Longest prefixes first, so gpt-4o-mini wins over gpt-4o.
  const prefixes = [...exact.keys()].sort((a, b) => b.length - a.length);
  const resolve = (model: string): ModelPrice => {
    let name = model.toLowerCase();
    const slash = name.lastIndexOf('/');
    if (slash >= 0) name = name.slice(slash + 1);
    const hit = exact.get(name);
    if (hit) return hit;
    for (const p of prefixes) if (name.startsWith(p)) return exact.get(p)!;
    return table.default;
  };
  const remembered = memoize(resolve);
  return (model) => (model === undefined || model === '' ? table.default : remembered(model));
}

/** USD for one request. */
export function requestCost(price: ModelPrice, promptTokens: number, completionTokens: number): number {
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
