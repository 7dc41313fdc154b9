/**
 * A group's send budget is shared: one member sending as fast as they can spends only their
 * share of it, and the other members' messages still go through. Without the share (1), the
 * same flood takes every token and the others are refused: the two sides of the rule.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors.js";
import { createRateLimiter } from "../src/messages/rate-limit.js";
import { groupWith, send } from "./fixtures.js";
import { createTestContext } from "./helpers.js";

describe("rate limiter with a member share", () => {
  it("gives each member a share of the key's burst and rate, and takes nothing when either is empty", () => {
    let t = 0;
    const limiter = createRateLimiter(10, 10, 0.25, () => t);
    const takes = (member: string | undefined, n: number) => Array.from({ length: n }, () => limiter.take("G1", member)).filter(Boolean).length;
    // ceil(10 × 0.25) = 3 for a member, then refused; another member has a share of their own.
    expect(takes("a", 5)).toBe(3);
    expect(takes("b", 5)).toBe(3);
    // A take without a member spends only the key's bucket: 4 tokens are left of 10.
    expect(takes(undefined, 10)).toBe(4);
    expect(takes("c", 1)).toBe(0);
    // One second later: the key has 10 new tokens, "a" 2.5 (so 2 whole ones).
    t += 1000;
    expect(takes("a", 5)).toBe(2);
    expect(takes("c", 5)).toBe(3);
    // Members' refusals took nothing from the key: 10 − 2 − 3 = 5 remain.
    expect(takes(undefined, 10)).toBe(5);
  });

  it("a share of 1, or no member, is the plain per-key bucket", () => {
    const limiter = createRateLimiter(4, 0.001, 1, () => 0);
    expect(Array.from({ length: 6 }, () => limiter.take("G1", "a")).filter(Boolean).length).toBe(4);
  });
});

/**
 * One member floods the group from several loops at once for `ms`, while the others each send one
 * message every `everyMs`; returns what each side got through and how often it was refused.
 */
async function floodWhileOthersTalk(memberShare: number, ms: number, everyMs: number) {
  const t = await createTestContext({ groupSendBurst: 20, groupSendPerSecond: 10, groupSendMemberShare: memberShare });
  try {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const flooder = members[0]!;
    const others = [owner, members[1]!, members[2]!];
    const tally = { flooderSent: 0, flooderRefused: 0, othersSent: 0, othersRefused: 0 };
    const end = Date.now() + ms;
    const attempt = async (from: string, content: string): Promise<boolean> => {
      try {
        await send(t.ctx, from, groupId, content);
        return true;
      } catch (error) {
        if (error instanceof AppError && error.kind === "RATE_LIMITED") return false;
        throw error;
      }
    };
    const flood = async () => {
      for (let i = 0; Date.now() < end; i++) {
        if (await attempt(flooder, `flood ${i}`)) tally.flooderSent++;
        else tally.flooderRefused++;
        // As frames off a socket would: each attempt its own turn of the event loop (an embedded
        // database may answer in microtasks only, which would starve every timer).
        await new Promise((r) => setImmediate(r));
      }
    };
    const talk = async (from: string) => {
      // The flood starts first and has spent its burst before anyone else speaks.
      await new Promise((r) => setTimeout(r, everyMs));
      for (let i = 0; Date.now() < end; i++) {
        if (await attempt(from, `talk ${i}`)) tally.othersSent++;
        else tally.othersRefused++;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    };
    await Promise.all([flood(), flood(), flood(), flood(), ...others.map(talk)]);
    return tally;
  } finally {
    await t.dispose();
  }
}

describe("one member flooding a group", () => {
  it("with the member share, cannot silence the others", async () => {
    const tally = await floodWhileOthersTalk(0.25, 2500, 500);
    expect(tally.othersRefused).toBe(0);
    expect(tally.othersSent).toBeGreaterThanOrEqual(9);
    // The flooder was held to its share: a burst of 5, then 2.5 per second.
    expect(tally.flooderRefused).toBeGreaterThan(0);
    expect(tally.flooderSent).toBeLessThanOrEqual(5 + Math.ceil(2.5 * 2.5) + 2);
  });

  it("without it (share 1), takes the whole group budget and the others are refused", async () => {
    const tally = await floodWhileOthersTalk(1, 2500, 500);
    expect(tally.othersRefused).toBeGreaterThan(0);
    expect(tally.flooderSent).toBeGreaterThanOrEqual(20);
  });
});
