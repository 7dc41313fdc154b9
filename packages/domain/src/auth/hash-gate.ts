import pLimit from "p-limit";
import { AppError } from "../errors.js";

/**
 * Password hashing (scrypt) runs on libuv's small thread pool, which file access shares: without a
 * bound, a flood of logins queues hashes without end and everyone's login waits behind them. The
 * gate runs at most `concurrency` hashes at once, lets at most `maxQueue` wait, and refuses the
 * rest at once; an account has at most one check in flight, so attempts on one account cannot
 * take every slot.
 */
export interface HashGate {
  /** Runs `task` (a hash for `account`) when a slot is free; RATE_LIMITED when the queue is full or the account already has one. */
  run<T>(account: string, task: () => Promise<T>): Promise<T>;
}

export function createHashGate(concurrency: number, maxQueue: number): HashGate {
  const limit = pLimit(concurrency);
  const busyAccounts = new Set<string>();
  return {
    async run(account, task) {
      if (busyAccounts.has(account)) throw new AppError("RATE_LIMITED", "该账号的登录正在处理中，请稍后再试");
      // Both counts: a task waits in pendingCount until p-limit starts it on a later tick.
      if (limit.activeCount + limit.pendingCount >= concurrency + maxQueue) throw new AppError("RATE_LIMITED", "服务器繁忙，请稍后再试");
      busyAccounts.add(account);
      try {
        return await limit(task);
      } finally {
        busyAccounts.delete(account);
      }
    },
  };
}
