import { expect, test } from "@playwright/test";
import { befriend, messageTexts, messageWith, ownMessage, registerUser, send, sessionItem, uniq } from "./helpers";

/**
 * The group-chat loop through the console, three users in three browser contexts:
 * friends → group → apply by id → live approval → live messages both ways → unread badge →
 * leave → dismiss.
 */
test("three users run the full group-chat loop live", async ({ browser }) => {
  const a = await registerUser(browser, "Alice");
  const b = await registerUser(browser, "Bob");
  const c = await registerUser(browser, "Carol");

  await test.step("A and B become friends", async () => {
    await befriend(a, b);
  });

  const groupName = `Team ${uniq()}`.slice(0, 20);
  let groupId = "";
  await test.step("A creates a group with B", async () => {
    await a.page.getByTestId("nav-new-group").click();
    await a.page.getByTestId("group-name-input").fill(groupName);
    await a.page.locator(`[data-testid="group-member-option"][data-user-id="${b.id}"] input`).check();
    await a.page.getByTestId("group-create-submit").click();
    await expect(a.page.getByTestId("chat-view")).toBeVisible();
    groupId = (await a.page.getByTestId("chat-peer-id").textContent())?.trim() ?? "";
    expect(groupId).toMatch(/^G\w+$/);
    await expect(sessionItem(a.page, groupId)).toBeVisible();
    // B was added at creation: the group shows up in B's list live.
    await expect(sessionItem(b.page, groupId)).toContainText(groupName);
  });

  await test.step("C applies by group id; A sees the request live and approves", async () => {
    await c.page.getByTestId("nav-join-group").click();
    await c.page.getByTestId("join-group-id").fill(groupId);
    await c.page.getByTestId("join-group-message").fill("let me in");
    await c.page.getByTestId("join-group-submit").click();
    await expect(c.page.getByTestId("join-group-result")).toContainText(groupId);
    await expect(sessionItem(c.page, groupId)).toHaveCount(0);

    // A is still in the group chat: the request count appears without a reload.
    await expect(a.page.getByTestId("chat-view")).toBeVisible();
    await expect(a.page.getByTestId("pending-count")).toHaveText("1");
    await a.page.getByTestId("nav-requests").click();
    const request = a.page.locator(`[data-testid="pending-request"][data-kind="join"][data-user-id="${c.id}"]`);
    await expect(request).toContainText(groupName);
    await expect(request).toContainText("let me in");
    await request.getByTestId("request-approve").click();
    await expect(a.page.getByTestId("requests-empty")).toBeVisible();
    await expect(a.page.getByTestId("pending-count")).toHaveCount(0);

    // C is a member now: the group appears in C's list live.
    await expect(sessionItem(c.page, groupId)).toContainText(groupName);
  });

  await test.step("messages go both ways live; an unread badge shows until the chat is opened", async () => {
    await sessionItem(a.page, groupId).click();
    await sessionItem(c.page, groupId).click();
    await expect(c.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", groupId);

    await send(a, "hello from A");
    await expect(messageWith(c.page, "hello from A")).toHaveAttribute("data-own", "false");
    // B is not in the chat: the session shows the message and one unread.
    await expect(sessionItem(b.page, groupId).getByTestId("session-last")).toHaveText("hello from A");
    await expect(sessionItem(b.page, groupId).getByTestId("unread-badge")).toHaveText("1");

    await sessionItem(b.page, groupId).click();
    await expect(messageWith(b.page, "hello from A")).toBeVisible();
    await expect(sessionItem(b.page, groupId).getByTestId("unread-badge")).toHaveCount(0);
    await send(b, "hi from B");
    await expect(messageWith(a.page, "hi from B")).toHaveAttribute("data-own", "false");
    await expect(messageWith(c.page, "hi from B")).toBeVisible();

    await send(c, "hey from C");
    await expect(messageWith(a.page, "hey from C")).toBeVisible();
    await expect(messageWith(b.page, "hey from C")).toBeVisible();

    // Everyone sees the same conversation in the same order, their own messages marked.
    for (const user of [a, b, c]) {
      await expect(messageTexts(user.page)).toHaveText(["hello from A", "hi from B", "hey from C"]);
    }
    await expect(ownMessage(a.page, "hello from A")).toHaveCount(1);
    await expect(ownMessage(c.page, "hey from C")).toHaveCount(1);

    // Leaving the chat, B's read mark holds: no badge comes back.
    await b.page.getByTestId("nav-friends").click();
    await expect(b.page.getByTestId("friends-screen")).toBeVisible();
    await expect(sessionItem(b.page, groupId).getByTestId("session-last")).toHaveText("hey from C");
    await expect(sessionItem(b.page, groupId).getByTestId("unread-badge")).toHaveCount(0);
  });

  await test.step("B leaves and stops receiving", async () => {
    await sessionItem(b.page, groupId).click();
    await b.page.getByTestId("group-panel-toggle").click();
    await expect(b.page.getByTestId("group-member")).toHaveCount(3);
    await b.page.getByTestId("group-leave").click();
    await b.page.getByTestId("group-leave-confirm").click();
    await expect(b.page.getByTestId("welcome")).toBeVisible();
    await expect(sessionItem(b.page, groupId)).toHaveCount(0);

    await send(a, "after B left");
    await expect(messageWith(c.page, "after B left")).toBeVisible();
    // C got it, so B would have by now: B has nothing of it anywhere.
    await expect(b.page.getByText("after B left")).toHaveCount(0);
    await expect(sessionItem(b.page, groupId)).toHaveCount(0);
  });

  await test.step("A dismisses; the others can no longer send and are told why", async () => {
    await a.page.getByTestId("group-panel-toggle").click();
    await expect(a.page.getByTestId("group-member")).toHaveCount(2);
    await a.page.getByTestId("group-dismiss").click();
    await a.page.getByTestId("group-dismiss-confirm").click();
    await expect(a.page.getByTestId("group-panel-result")).toHaveText("Group dismissed");

    // C, still in the chat, hears it live.
    await expect(c.page.getByTestId("chat-notice")).toHaveText("群聊已解散");
    await c.page.getByTestId("composer-input").fill("anyone there?");
    await c.page.getByTestId("composer-send").click();
    await expect(c.page.getByTestId("send-error")).toHaveText("群组状态异常");
    await expect(messageWith(c.page, "anyone there?")).toHaveCount(0);
    await expect(sessionItem(c.page, groupId)).toHaveCount(0);

    // The owner cannot send either.
    await a.page.getByTestId("composer-input").fill("still here?");
    await a.page.getByTestId("composer-send").click();
    await expect(a.page.getByTestId("send-error")).toHaveText("群组状态异常");
  });

  for (const user of [a, b, c]) await user.context.close();
});
