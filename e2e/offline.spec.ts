import { expect, test } from "@playwright/test";
import { befriend, liveStatus, messageTexts, messageWith, registerUser, send, sessionItem } from "./helpers";

/**
 * A tab that goes offline and comes back shows every message it missed exactly once, in order,
 * without a reload: the console resumes the live stream from the last tracked event id.
 */
test("an offline tab catches up on every missed message, once, in order", async ({ browser }) => {
  const a = await registerUser(browser, "Ann");
  const b = await registerUser(browser, "Ben");
  await befriend(a, b);

  // Both open their private chat.
  for (const [user, peer] of [
    [a, b],
    [b, a],
  ] as const) {
    await user.page.getByTestId("nav-friends").click();
    await user.page.locator(`[data-testid="friend-item"][data-user-id="${peer.id}"]`).getByTestId("friend-chat").click();
    await expect(user.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", peer.id);
  }
  await send(a, "before 1");
  await send(b, "before 2");
  await expect(messageTexts(a.page)).toHaveText(["before 1", "before 2"]);
  await expect(messageTexts(b.page)).toHaveText(["before 1", "before 2"]);

  // A marker that a reload would wipe.
  await b.page.evaluate(() => {
    (window as unknown as { marker: string }).marker = "same page";
  });

  // What B's tab sends on its sockets: the resubscription must carry the last tracked id.
  const sent: string[] = [];
  b.page.on("websocket", (ws) => ws.on("framesent", (frame) => sent.push(String(frame.payload))));

  await b.context.setOffline(true);
  await expect(liveStatus(b.page)).toHaveAttribute("data-status", "offline");

  const missed = ["missed 1", "missed 2", "missed 3", "missed 4", "missed 5"];
  for (const text of missed) await send(a, text);
  await expect(sessionItem(a.page, b.id).getByTestId("session-last")).toHaveText("missed 5");
  // Nothing reaches the offline tab.
  await expect(messageWith(b.page, "missed 1")).toHaveCount(0);

  await b.context.setOffline(false);
  await expect(liveStatus(b.page)).toHaveAttribute("data-status", "online");
  await expect(messageTexts(b.page)).toHaveText(["before 1", "before 2", ...missed]);
  type Frame = { method?: string; params?: { path?: string; input?: { json?: { lastEventId?: string } } } };
  // The client sends several messages as one array frame when they start together (the live
  // events, signals and receipts subscriptions of one socket do).
  const messagesSent = sent.flatMap((f) => [JSON.parse(f) as Frame | Frame[]].flat());
  const resubscribe = messagesSent.find((m) => m.method === "subscription" && m.params?.path === "live.events");
  expect(resubscribe?.params?.path).toBe("live.events");
  expect(resubscribe?.params?.input?.json?.lastEventId).toMatch(/^\d+$/);
  // And it stays that way: no duplicate arrives late.
  await send(a, "after");
  await expect(messageTexts(b.page)).toHaveText(["before 1", "before 2", ...missed, "after"]);
  const seqs = await b.page.getByTestId("message-list").getByTestId("message").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(await b.page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("same page");

  await a.context.close();
  await b.context.close();
});
