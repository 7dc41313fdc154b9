/** Token buckets keyed by an id (a group): `burst` tokens, refilled at `perSecond`. Per node. */
export interface RateLimiter {
  /** Takes one token; false when the bucket is empty. */
  take(key: string): boolean;
}

export function createRateLimiter(burst: number, perSecond: number, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return {
    take(key) {
      const t = now();
      // Forget buckets that have been full for a while, so idle groups cost no memory.
      if (t - lastSweep > 60_000) {
        for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * perSecond >= burst) buckets.delete(k);
        lastSweep = t;
      }
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
