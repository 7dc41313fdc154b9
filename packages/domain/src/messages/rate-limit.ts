/**
 * Token buckets keyed by an id (a group): `burst` tokens, refilled at `perSecond`. Per node.
 * With a member, the take also needs a token from that member's own bucket, a `memberShare` of the
 * key's burst and rate: a member who sends as fast as they can spends only that share, and the
 * others still find tokens in the key's bucket. One member cannot silence a group.
 */
export interface RateLimiter {
  /** Takes one token (and one of `member`'s share); false, and nothing taken, when either is empty. */
  take(key: string, member?: string): boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets of one size; ones that have refilled are forgotten, so idle keys cost no memory. */
function bucketSet(burst: number, perSecond: number, now: () => number) {
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();
  return {
    /** The bucket of `key`, refilled up to `t`. */
    at(key: string, t: number): Bucket {
      if (t - lastSweep > 60_000) {
        for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * perSecond >= burst) buckets.delete(k);
        lastSweep = t;
      }
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      return bucket;
    },
  };
}

export function createRateLimiter(burst: number, perSecond: number, memberShare = 1, now: () => number = Date.now): RateLimiter {
  const keys = bucketSet(burst, perSecond, now);
  // At least one whole token, or a small share of a small burst would never allow a send.
  const members = bucketSet(Math.max(1, Math.ceil(burst * memberShare)), perSecond * memberShare, now);
  return {
    take(key, member) {
      const t = now();
      const shared = keys.at(key, t);
      const own = member === undefined || memberShare >= 1 ? undefined : members.at(`${key}\u0000${member}`, t);
      if (shared.tokens < 1 || (own && own.tokens < 1)) return false;
      shared.tokens -= 1;
      if (own) own.tokens -= 1;
      return true;
    },
  };
}
