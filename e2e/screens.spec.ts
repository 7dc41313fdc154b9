import { expect, test, type Page } from "@playwright/test";
import { messages, messageTexts, registerUser, screenshot, send, sessionItem } from "./helpers";

/** Sends `count` private messages through the HTTP API with the page's own token. */
async function sendMany(page: Page, peerId: string, count: number): Promise<void> {
  await page.evaluate(
    async ({ peerId, count }) => {
      const { token } = JSON.parse(sessionStorage.getItem("omnilink.console.auth") ?? "{}") as { token: string };
      const call = async (path: string, input: unknown) => {
        const res = await fetch(`/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ json: input }),
        });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      };
      // A private chat starts with a session (the legacy rule), as the console's Chat button does.
      await call("sessions.open", { peerId });
      for (let i = 1; i <= count; i++) await call("messages.send", { receiveId: peerId, content: `line ${i}` });
    },
    { peerId, count },
  );
}

test("every main screen renders (screenshots in test-results/screenshots)", async ({ browser }) => {
  const guest = await browser.newContext();
  const login = await guest.newPage();
  await login.goto("/");
  await expect(login.getByTestId("auth-form")).toHaveAttribute("data-mode", "login");
  await screenshot(login, "01-login");
  await login.getByTestId("auth-mode-register").click();
  await login.getByTestId("auth-username").fill("new_user");
  await login.getByTestId("auth-nickname").fill("New user");
  await screenshot(login, "02-register");
  // A refusal is shown as the server words it.
  await login.getByTestId("auth-mode-login").click();
  await login.getByTestId("auth-username").fill("nobody_here");
  await login.getByTestId("auth-password").fill("whatever1");
  await login.getByTestId("auth-submit").click();
  await expect(login.getByTestId("auth-error")).toHaveText("用户不存在");
  await guest.close();

  const a = await registerUser(browser, "Amy");
  const b = await registerUser(browser, "Bill");
  await screenshot(a.page, "03-chats-empty");

  await a.page.getByTestId("nav-friends").click();
  await a.page.getByTestId("friend-id-input").fill(b.id);
  await a.page.getByTestId("friend-request-submit").click();
  await expect(b.page.getByTestId("pending-count")).toHaveText("1");
  await b.page.getByTestId("nav-requests").click();
  await expect(b.page.getByTestId("pending-request")).toHaveCount(1);
  await screenshot(b.page, "04-requests");
  await b.page.getByTestId("request-approve").click();
  await expect(a.page.locator(`[data-testid="friend-item"][data-user-id="${b.id}"]`)).toBeVisible();
  await screenshot(a.page, "05-friends");

  await a.page.getByTestId("nav-new-group").click();
  await a.page.getByTestId("group-name-input").fill("Screenshots");
  await a.page.getByTestId("group-notice-input").fill("Pictures of every screen");
  await a.page.locator(`[data-testid="group-member-option"][data-user-id="${b.id}"] input`).check();
  await screenshot(a.page, "06-new-group");
  await a.page.getByTestId("group-create-submit").click();
  await expect(a.page.getByTestId("chat-view")).toBeVisible();
  const groupId = (await a.page.getByTestId("chat-peer-id").textContent())?.trim() ?? "";
  await send(a, "Welcome to the group");
  await sessionItem(b.page, groupId).click();
  await send(b, "Thanks!");
  await expect(messageTexts(a.page)).toHaveText(["Welcome to the group", "Thanks!"]);
  await screenshot(a.page, "07-chat");
  await a.page.getByTestId("group-panel-toggle").click();
  await expect(a.page.getByTestId("group-member")).toHaveCount(2);
  await screenshot(a.page, "08-group-panel");

  await b.page.getByTestId("nav-join-group").click();
  await b.page.getByTestId("join-group-id").fill(groupId);
  await b.page.getByTestId("join-group-submit").click();
  await expect(b.page.getByTestId("join-group-error")).toBeVisible();
  await screenshot(b.page, "09-join-group");

  await test.step("history loads by scrolling up (cursor: beforeSeq)", async () => {
    await sendMany(a.page, b.id, 45);
    await expect(sessionItem(b.page, a.id).getByTestId("unread-badge")).toHaveText("45");
    await screenshot(b.page, "10-session-list-unread");
    // B heard all 45 live; a reload (same tab, same sign-in) starts from history instead.
    await b.page.reload();
    await expect(sessionItem(b.page, a.id).getByTestId("unread-badge")).toHaveText("45");
    await sessionItem(b.page, a.id).click();
    // The newest page first.
    await expect(messages(b.page)).toHaveCount(30);
    await expect(messageTexts(b.page).last()).toHaveText("line 45");
    await expect(b.page.getByTestId("load-older")).toBeVisible();
    await b.page.getByTestId("message-list").evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect(messages(b.page)).toHaveCount(45);
    await expect(b.page.getByTestId("history-start")).toBeVisible();
    await expect(messageTexts(b.page)).toHaveText(Array.from({ length: 45 }, (_, i) => `line ${i + 1}`));
    await expect(sessionItem(b.page, a.id).getByTestId("unread-badge")).toHaveCount(0);
    await screenshot(b.page, "11-history");
  });

  await a.context.close();
  await b.context.close();
});
