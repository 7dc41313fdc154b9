import { mkdirSync } from "node:fs";
import { expect, type Browser, type BrowserContext, type Locator, type Page } from "@playwright/test";

const PASSWORD = "secret123";

/** A short unique suffix: usernames are 3-20 characters of [A-Za-z0-9_]. */
export function uniq(): string {
  return `${Date.now().toString(36).slice(-6)}${Math.random().toString(36).slice(2, 6)}`;
}

export interface User {
  context: BrowserContext;
  page: Page;
  id: string;
  username: string;
  nickname: string;
}

/** A new browser context (its own sessionStorage) that registers through the console. */
export async function registerUser(browser: Browser, nickname: string): Promise<User> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const username = `${nickname.toLowerCase()}_${uniq()}`;
  await page.goto("/");
  await page.getByTestId("auth-mode-register").click();
  await page.getByTestId("auth-username").fill(username);
  await page.getByTestId("auth-password").fill(PASSWORD);
  await page.getByTestId("auth-nickname").fill(nickname);
  await page.getByTestId("auth-submit").click();
  await expect(page.getByTestId("me-name")).toHaveText(nickname);
  await expect(liveStatus(page)).toHaveAttribute("data-status", "online");
  const id = (await page.getByTestId("my-id").textContent())?.trim() ?? "";
  expect(id).toMatch(/^U\w+$/);
  return { context, page, id, username, nickname };
}

export const liveStatus = (page: Page): Locator => page.getByTestId("live-status");

export function sessionItem(page: Page, peerId: string): Locator {
  return page.locator(`[data-testid="session-item"][data-peer-id="${peerId}"]`);
}

export function messages(page: Page): Locator {
  return page.getByTestId("message-list").getByTestId("message");
}

export function messageTexts(page: Page): Locator {
  return page.getByTestId("message-list").getByTestId("message-content");
}

/** `from` asks `to` for friendship on the Friends screen; `to` accepts it on the Requests screen. */
export async function befriend(from: User, to: User): Promise<void> {
  await from.page.getByTestId("nav-friends").click();
  await from.page.getByTestId("friend-id-input").fill(to.id);
  await from.page.getByTestId("friend-request-submit").click();
  await expect(from.page.getByTestId("friend-request-result")).toContainText(to.id);

  // The request reaches `to` live: the header count appears without a reload.
  await expect(to.page.getByTestId("pending-count")).toHaveText("1");
  await to.page.getByTestId("nav-requests").click();
  const request = to.page.locator(`[data-testid="pending-request"][data-kind="friend"][data-user-id="${from.id}"]`);
  await request.getByTestId("request-approve").click();
  await expect(request).toHaveCount(0);

  await to.page.getByTestId("nav-friends").click();
  await expect(to.page.locator(`[data-testid="friend-item"][data-user-id="${from.id}"]`)).toBeVisible();
  // `from` hears the decision live too.
  await expect(from.page.locator(`[data-testid="friend-item"][data-user-id="${to.id}"]`)).toBeVisible();
}

/** Types and sends a message in the open chat, and waits for the send to be accepted. */
export async function send(user: User, text: string): Promise<void> {
  await user.page.getByTestId("composer-input").fill(text);
  await user.page.getByTestId("composer-send").click();
  await expect(user.page.getByTestId("composer-input")).toHaveValue("");
  await expect(ownMessage(user.page, text)).toHaveCount(1);
}

export function ownMessage(page: Page, text: string): Locator {
  return messages(page).filter({ has: page.getByTestId("message-content").getByText(text, { exact: true }) }).and(page.locator('[data-own="true"]'));
}

export function messageWith(page: Page, text: string): Locator {
  return messages(page).filter({ has: page.getByTestId("message-content").getByText(text, { exact: true }) });
}

const SCREENSHOTS = "test-results/screenshots";

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** The owner creates a group with these friends through the console's form; returns its id (the owner's chat shows it). */
export async function createGroup(owner: User, members: User[], name: string): Promise<string> {
  await owner.page.getByTestId("nav-new-group").click();
  await owner.page.getByTestId("group-name-input").fill(name.slice(0, 20));
  for (const u of members) await owner.page.locator(`[data-testid="group-member-option"][data-user-id="${u.id}"] input`).check();
  await owner.page.getByTestId("group-create-submit").click();
  await expect(owner.page.getByTestId("chat-view")).toBeVisible();
  const groupId = (await owner.page.getByTestId("chat-peer-id").textContent())?.trim() ?? "";
  expect(groupId).toMatch(/^G\w+$/);
  return groupId;
}

/** Opens a conversation from the user's session list. */
export async function openChat(user: User, peerId: string): Promise<void> {
  await sessionItem(user.page, peerId).click();
  await expect(user.page.getByTestId("chat-view")).toHaveAttribute("data-peer-id", peerId);
}
