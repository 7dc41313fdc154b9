import { describe, expect, it } from "vitest";
import { createHashGate } from "../src/auth/hash-gate.js";
import { AppError } from "../src/errors.js";

/** A task that runs until `finish` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<string>((resolve) => (finish = () => resolve("done")));
  let started = false;
  return { task: () => ((started = true), done), finish: () => finish(), started: () => started };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => "admitted",
    (error: unknown) => (error instanceof AppError ? `${error.kind}: ${error.message}` : "other"),
  );
const tick = () => new Promise((r) => setTimeout(r, 10));

describe("HashGate", () => {
  it("runs `concurrency` tasks, queues `maxQueue` more, refuses the rest at once, and admits again once a slot frees", async () => {
    const gate = createHashGate(2, 1);
    const [a, b, c] = [held(), held(), held()];
    const running = [gate.run("a", a.task), gate.run("b", b.task), gate.run("c", c.task)];
    await tick();
    expect([a.started(), b.started(), c.started()]).toEqual([true, true, false]);
    expect(await refusal(gate.run("d", () => Promise.resolve("d")))).toBe("RATE_LIMITED: 服务器繁忙，请稍后再试");
    a.finish();
    await tick();
    expect(c.started()).toBe(true);
    const d = gate.run("d", () => Promise.resolve("d"));
    b.finish();
    c.finish();
    expect(await Promise.all([...running, d])).toEqual(["done", "done", "done", "d"]);
  });

  it("lets one account have a single check in flight; other accounts and later checks are unaffected", async () => {
    const gate = createHashGate(4, 4);
    const first = held();
    const running = gate.run("alice", first.task);
    expect(await refusal(gate.run("alice", () => Promise.resolve("again")))).toBe("RATE_LIMITED: 该账号的登录正在处理中，请稍后再试");
    expect(await gate.run("bob", () => Promise.resolve("bob"))).toBe("bob");
    first.finish();
    await running;
    expect(await gate.run("alice", () => Promise.resolve("later"))).toBe("later");
  });

  it("frees the account and the slot when a task fails", async () => {
    const gate = createHashGate(1, 0);
    await expect(gate.run("alice", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run("alice", () => Promise.resolve("ok"))).toBe("ok");
  });
});
