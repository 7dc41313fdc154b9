import { expect, test, type Browser } from "@playwright/test";
import { befriend, createGroup, messageWith, ownMessage, registerUser, screenshot, send, sessionItem, uniq, type User } from "./helpers";

/** A (owner) with friends B and C in a new group; A's page ends in the group chat. */
async function groupOfThree(browser: Browser) {
  const a = await registerUser(browser, "Alice");
  const b = await registerUser(browser, "Bob");
  const c = await registerUser(browser, "Carol");
  await befriend(a, b);
  await befriend(a, c);
  const groupId = await createGroup(a, [b, c], `Crew ${uniq()}`);
  for (const u of [b, c]) await expect(sessionItem(u.page, groupId)).toBeVisible();
  return { a, b, c, groupId };
}

async function closeAll(...users: User[]) {
  for (const u of users) await u.context.close();
}

test("mentions: the composer picks members and @all; the mentioned see '@ you' live and the message highlighted", async ({ browser }) => {
  const { a, b, c, groupId } = await groupOfThree(browser);

  await test.step("A mentions B: B's session shows '@ you', C's only an unread count", async () => {
    await a.page.getByTestId("mention-toggle").click();
    await a.page.locator(`[data-testid="mention-option"][data-user-id="${b.id}"]`).click();
    await expect(a.page.getByTestId("composer-input")).toHaveValue(/^@Bob $/);
    await a.page.getByTestId("composer-input").press("End");
    await a.page.getByTestId("composer-input").pressSequentially("can you look?");
    await a.page.getByTestId("composer-send").click();
    await expect(ownMessage(a.page, "@Bob can you look?")).toHaveCount(1);

    await expect(sessionItem(b.page, groupId).getByTestId("mention-badge")).toHaveText("@ you");
    await expect(sessionItem(b.page, groupId).getByTestId("unread-badge")).toHaveText("1");
    await expect(sessionItem(c.page, groupId).getByTestId("unread-badge")).toHaveText("1");
    await expect(sessionItem(c.page, groupId).getByTestId("mention-badge")).toHaveCount(0);
  });

  await test.step("the owner's @all reaches everyone", async () => {
    await expect(a.page.getByTestId("mention-all")).toBeVisible();
    await a.page.getByTestId("mention-all").click();
    await a.page.getByTestId("composer-input").press("End");
    await a.page.getByTestId("composer-input").pressSequentially("meeting at 3");
    await a.page.getByTestId("composer-send").click();
    await expect(ownMessage(a.page, "@all meeting at 3")).toHaveCount(1);
    await expect(sessionItem(b.page, groupId).getByTestId("mention-badge")).toHaveText("@ you ×2");
    await expect(sessionItem(c.page, groupId).getByTestId("mention-badge")).toHaveText("@ you");
    await screenshot(b.page, "mention");
    // A plain message adds to unread, not to mentions.
    await send(a, "plain words");
    await expect(sessionItem(c.page, groupId).getByTestId("unread-badge")).toHaveText("3");
    await expect(sessionItem(c.page, groupId).getByTestId("mention-badge")).toHaveText("@ you");
  });

  await test.step("a member cannot @all: no such option, and the picker lists the others", async () => {
    await sessionItem(c.page, groupId).click();
    await c.page.getByTestId("mention-toggle").click();
    await expect(c.page.getByTestId("mention-option")).toHaveCount(2);
    await expect(c.page.getByTestId("mention-all")).toHaveCount(0);
    await expect(sessionItem(c.page, groupId).getByTestId("mention-badge")).toHaveCount(0);
  });

  await test.step("B opens the chat: the mentions are highlighted and the badge goes", async () => {
    await sessionItem(b.page, groupId).click();
    await expect(messageWith(b.page, "@Bob can you look?")).toHaveAttribute("data-mentions-me", "true");
    await expect(messageWith(b.page, "@all meeting at 3")).toHaveAttribute("data-mentions-me", "true");
    await expect(messageWith(b.page, "plain words")).toHaveAttribute("data-mentions-me", "false");
    await expect(messageWith(b.page, "@Bob can you look?").getByTestId("mention-tag")).toHaveText("@ you");
    // Away from the chat, the read mark holds: no badge comes back.
    await b.page.getByTestId("nav-friends").click();
    await expect(sessionItem(b.page, groupId).getByTestId("unread-badge")).toHaveCount(0);
    await expect(sessionItem(b.page, groupId).getByTestId("mention-badge")).toHaveCount(0);
    await sessionItem(b.page, groupId).click();
    await expect(messageWith(b.page, "@Bob can you look?")).toBeVisible();
    await screenshot(b.page, "mention-chat");
  });

  await closeAll(a, b, c);
});

test("read receipts: 'read by N' with who, and 已读/未读 in private chats, updated live", async ({ browser }) => {
  const { a, b, c, groupId } = await groupOfThree(browser);

  await test.step("A's group message: read by 0, then by B and C as they open the chat (no reload)", async () => {
    await send(a, "please read");
    const mine = ownMessage(a.page, "please read");
    await expect(mine.getByTestId("read-by")).toHaveText("read by 0");
    await sessionItem(b.page, groupId).click();
    await expect(messageWith(b.page, "please read")).toBeVisible();
    await expect(mine.getByTestId("read-by")).toHaveText("read by 1");
    // The drill-down: who has read it and who has not.
    await mine.getByTestId("read-by").click();
    await expect(mine.getByTestId("receipt-readers").locator("li")).toHaveText(["Bob"]);
    await expect(mine.getByTestId("receipt-unread").locator("li")).toHaveText(["Carol"]);
    await sessionItem(c.page, groupId).click();
    await expect(messageWith(c.page, "please read")).toBeVisible();
    await expect(mine.getByTestId("read-by")).toHaveText("read by all");
    await expect(mine.getByTestId("receipt-readers").locator("li")).toHaveText(["Bob", "Carol"]);
    await expect(mine.getByTestId("receipt-unread").locator("li")).toHaveCount(0);
    // Others' messages carry no count for A; B sees none on A's message.
    await expect(messageWith(b.page, "please read").getByTestId("read-by")).toHaveCount(0);
    await screenshot(a.page, "read-receipt");
  });

  await test.step("private: 未读 until B opens the chat, then 已读, live", async () => {
    await b.page.getByTestId("nav-friends").click();
    await a.page.getByTestId("nav-friends").click();
    await a.page.locator(`[data-testid="friend-item"][data-user-id="${b.id}"]`).getByTestId("friend-chat").click();
    await expect(a.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", b.id);
    await send(a, "are you there?");
    const receipt = ownMessage(a.page, "are you there?").getByTestId("receipt");
    await expect(receipt).toHaveText("未读");
    await sessionItem(b.page, a.id).click();
    await expect(messageWith(b.page, "are you there?")).toBeVisible();
    await expect(receipt).toHaveText("已读");
    await expect(receipt).toHaveAttribute("data-read", "true");
    await screenshot(a.page, "read-receipt-private");
  });

  await closeAll(a, b, c);
});
