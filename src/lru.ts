import { LRUCache } from 'lru-cache';

// lru-cache allocates its slot arrays for `max` entries up front: caches
// sized for peak load would hold megabytes of empty slots from the start.
// Bounded by size instead, each entry of size 1, they keep the same bound on
// the number of entries and grow their arrays as entries arrive.

export function growingLru<K extends {}, V extends {}>(opts: { readonly maxEntries: number; readonly ttl?: number }): LRUCache<K, V> {
  return new LRUCache<K, V>({
    maxSize: opts.maxEntries,
    sizeCalculation: () => 1,
    ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
  });
}
