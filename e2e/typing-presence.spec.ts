import { expect, test, type Page } from "@playwright/test";
import { befriend, createGroup, openChat, messageWith, registerUser, screenshot, send, sessionItem, uniq, type User } from "./helpers";

/** A creates a group with B (friends first, as the console's group form offers friends). */
async function groupOf(a: User, b: User): Promise<string> {
  await befriend(a, b);
  const groupId = await createGroup(a, [b], `Live ${uniq()}`);
  await openChat(b, groupId);
  return groupId;
}

const typingLine = (page: Page) => page.getByTestId("typing-indicator");

/**
 * Typing: what B types shows on A's screen as "Bob is typing…" (live, never stored), goes away
 * by itself a few seconds after B stops, and at once when B's message arrives.
 */
test("typing shows live in the other member's chat, expires, and ends with the message", async ({ browser }) => {
  const a = await registerUser(browser, "Alice");
  const b = await registerUser(browser, "Bob");
  await groupOf(a, b);

  await test.step("B types: A sees it; B does not see their own", async () => {
    await b.page.getByTestId("composer-input").pressSequentially("hel", { delay: 50 });
    await expect(typingLine(a.page)).toHaveText("Bob is typing…");
    await expect(typingLine(b.page)).toHaveText("");
    await screenshot(a.page, "typing");
  });

  await test.step("B stops typing: the line goes away by itself (no refresh within 6 s)", async () => {
    await expect(typingLine(a.page)).toHaveText("", { timeout: 10_000 });
  });

  await test.step("B types again and sends: the message ends it at once", async () => {
    await b.page.getByTestId("composer-input").pressSequentially("lo", { delay: 50 });
    await expect(typingLine(a.page)).toHaveText("Bob is typing…");
    await b.page.getByTestId("composer-send").click();
    await expect(messageWith(a.page, "hello")).toBeVisible();
    // Well within the 6 s hold: it was the message that ended it.
    await expect(typingLine(a.page)).toHaveText("", { timeout: 1_000 });
  });

  await test.step("clearing the draft says stopped", async () => {
    await b.page.getByTestId("composer-input").fill("x");
    await expect(typingLine(a.page)).toHaveText("Bob is typing…");
    await b.page.getByTestId("composer-input").fill("");
    await expect(typingLine(a.page)).toHaveText("", { timeout: 2_000 });
  });

  await send(a, "bye");
  await a.context.close();
  await b.context.close();
});

/**
 * Presence: the group panel shows who is online with a dot and a list; it follows a member
 * closing their last tab (after the server's grace period) and coming back, without a reload.
 */
test("the group panel shows who is online and follows members coming and going", async ({ browser }) => {
  const a = await registerUser(browser, "Alice");
  const b = await registerUser(browser, "Bob");
  const groupId = await groupOf(a, b);

  const member = (page: Page, id: string) => page.locator(`[data-testid="group-member"][data-user-id="${id}"]`);
  await a.page.getByTestId("group-panel-toggle").click();
  await expect(member(a.page, b.id)).toHaveAttribute("data-online", "true");
  await expect(member(a.page, a.id)).toHaveAttribute("data-online", "true");
  await expect(a.page.getByTestId("group-online")).toHaveText("Online now: Alice, Bob");
  await screenshot(a.page, "presence");

  await test.step("B's only tab closes: B goes offline on A's panel", async () => {
    await b.page.close();
    await expect(member(a.page, b.id)).toHaveAttribute("data-online", "false", { timeout: 15_000 });
    await expect(a.page.getByTestId("group-online")).toHaveText("Online now: Alice");
  });

  await test.step("B comes back in a new tab: online again", async () => {
    const page = await b.context.newPage();
    await page.goto("/");
    // sessionStorage is per tab: B signs in again.
    await page.getByTestId("auth-username").fill(b.username);
    await page.getByTestId("auth-password").fill("secret123");
    await page.getByTestId("auth-submit").click();
    await expect(page.getByTestId("live-status")).toHaveAttribute("data-status", "online");
    await expect(member(a.page, b.id)).toHaveAttribute("data-online", "true");
    await expect(sessionItem(page, groupId)).toBeVisible();
  });

  await a.context.close();
  await b.context.close();
});
