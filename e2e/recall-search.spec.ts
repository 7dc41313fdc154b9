import { expect, test, type Page } from "@playwright/test";
import { befriend, createGroup, openChat, messageWith, ownMessage, registerUser, screenshot, send, sessionItem, uniq, type User } from "./helpers";

/** A creates a group with B through the console and both have it open; returns its id. */
async function groupOf(a: User, b: User): Promise<string> {
  await befriend(a, b);
  const groupId = await createGroup(a, [b], `R ${uniq()}`);
  await openChat(b, groupId);
  return groupId;
}

const recalled = (page: Page) => page.getByTestId("message-list").locator('[data-testid="message"][data-recalled="true"]');

test("recall: the sender takes a message back, the owner recalls a member's; everyone sees the marker live", async ({ browser }) => {
  const a = await registerUser(browser, "Owner");
  const b = await registerUser(browser, "Member");
  const groupId = await groupOf(a, b);

  await test.step("A sends a message by mistake and recalls it; B sees it go, live", async () => {
    await send(a, "wrong group, sorry");
    await expect(messageWith(b.page, "wrong group, sorry")).toHaveCount(1);
    await ownMessage(a.page, "wrong group, sorry").getByTestId("message-recall").click();
    await expect(recalled(a.page)).toHaveCount(1);
    await expect(recalled(a.page).getByTestId("message-recalled")).toHaveText("You recalled a message");
    // B: the text is gone without a reload, the marker in its place, the preview too.
    await expect(messageWith(b.page, "wrong group, sorry")).toHaveCount(0);
    await expect(recalled(b.page)).toHaveCount(1);
    await expect(recalled(b.page).getByTestId("message-recalled")).toContainText("recalled a message");
    await expect(sessionItem(b.page, groupId).getByTestId("session-last")).toHaveText("[消息已撤回]");
  });

  await test.step("B may recall only its own messages; the owner recalls B's", async () => {
    await send(a, "owner says hi");
    await expect(messageWith(b.page, "owner says hi")).toHaveCount(1);
    await expect(messageWith(b.page, "owner says hi").getByTestId("message-recall")).toHaveCount(0);
    await send(b, "something rude");
    await expect(messageWith(a.page, "something rude")).toHaveCount(1);
    await messageWith(a.page, "something rude").getByTestId("message-recall").click();
    await expect(recalled(b.page)).toHaveCount(2);
    await expect(recalled(b.page).last().getByTestId("message-recalled")).toHaveText("This message was recalled by a group manager");
    await expect(messageWith(b.page, "something rude")).toHaveCount(0);
  });

  await test.step("a reload shows the same: the marker comes from the history", async () => {
    await b.page.reload();
    await expect(b.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", groupId);
    await expect(messageWith(b.page, "owner says hi")).toHaveCount(1);
    await expect(recalled(b.page)).toHaveCount(2);
    await screenshot(b.page, "recall");
  });
  await a.context.close();
  await b.context.close();
});

test("search: all conversations from the Search tab, one conversation from the chat; a result opens its conversation", async ({ browser }) => {
  const a = await registerUser(browser, "Seeker");
  const b = await registerUser(browser, "Other");
  const groupId = await groupOf(a, b);
  await send(a, "明天下午开会讨论项目进度");
  await send(b, "Lunch at noon?");
  await send(a, "nothing to see here");
  await expect(messageWith(a.page, "Lunch at noon?")).toHaveCount(1);

  await test.step("across every conversation, Chinese", async () => {
    await a.page.getByTestId("nav-search").click();
    await a.page.getByTestId("search-input").fill("项目进度");
    await a.page.getByTestId("search-submit").click();
    const hits = a.page.getByTestId("search-hit");
    await expect(hits).toHaveCount(1);
    await expect(hits.first()).toHaveAttribute("data-peer-id", groupId);
    await expect(hits.first().getByTestId("search-hit-snippet")).toHaveText("明天下午开会讨论项目进度");
    await a.page.getByTestId("search-input").fill("不存在的内容");
    await a.page.getByTestId("search-submit").click();
    await expect(a.page.getByTestId("search-empty")).toBeVisible();
    await a.page.getByTestId("search-input").fill("项目进度");
    await a.page.getByTestId("search-submit").click();
    await screenshot(a.page, "search");
    await hits.first().click();
    await expect(a.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", groupId);
  });

  await test.step("in the open conversation, English, case-insensitively", async () => {
    await a.page.getByTestId("chat-search-toggle").click();
    const box = a.page.locator('[data-testid="search"][data-scope="conversation"]');
    await box.getByTestId("search-input").fill("LUNCH");
    await box.getByTestId("search-submit").click();
    await expect(box.getByTestId("search-hit")).toHaveCount(1);
    await expect(box.getByTestId("search-hit-snippet")).toHaveText("Lunch at noon?");
  });
  await a.context.close();
  await b.context.close();
});

test("recall by an admin: an ordinary member's message yes, the owner's no", async ({ browser }) => {
  const a = await registerUser(browser, "Owner");
  const b = await registerUser(browser, "Admin");
  const c = await registerUser(browser, "Plain");
  await befriend(a, b);
  await befriend(a, c);
  const groupId = await createGroup(a, [b, c], `A ${uniq()}`);
  for (const u of [b, c]) await openChat(u, groupId);
  await a.page.getByTestId("group-panel-toggle").click();
  await a.page.locator(`[data-testid="group-member"][data-user-id="${b.id}"]`).getByTestId("member-admin-toggle").click();
  await expect(a.page.getByTestId("group-panel-result")).toHaveText("Admin appointed");

  await send(a, "from the owner");
  await send(c, "from a plain member");
  await expect(messageWith(b.page, "from a plain member")).toHaveCount(1);
  // B (admin) is offered recall on C's message, not on the owner's.
  await expect(messageWith(b.page, "from the owner").getByTestId("message-recall")).toHaveCount(0);
  await messageWith(b.page, "from a plain member").getByTestId("message-recall").click();
  await expect(recalled(c.page)).toHaveCount(1);
  await expect(recalled(c.page).getByTestId("message-recalled")).toHaveText("This message was recalled by a group manager");
  await expect(recalled(a.page)).toHaveCount(1);
  for (const u of [a, b, c]) await u.context.close();
});
