import { expect, test, type Page } from "@playwright/test";
import { befriend, createGroup, openChat, messageWith, registerUser, screenshot, send, uniq } from "./helpers";

const member = (page: Page, userId: string) => page.locator(`[data-testid="group-member"][data-user-id="${userId}"]`);

/**
 * Group admins and mute-all through the console, three users in three browser contexts: the owner
 * appoints an admin, everyone sees the roles live, the admin moderates ordinary members only and
 * switches mute-all, an ordinary member sees the banner and a disabled composer that says why.
 */
test("the owner appoints an admin; the admin switches mute-all; an ordinary member is silenced and told why", async ({ browser }) => {
  const a = await registerUser(browser, "Owner");
  const b = await registerUser(browser, "Admin");
  const c = await registerUser(browser, "Member");
  await befriend(a, b);
  await befriend(a, c);

  const groupName = `Staff ${uniq()}`.slice(0, 20);
  let groupId = "";
  await test.step("the owner creates a group with B and C and opens the panel", async () => {
    groupId = await createGroup(a, [b, c], groupName);
    for (const u of [b, c]) {
      await openChat(u, groupId);
      await u.page.getByTestId("group-panel-toggle").click();
    }
    await a.page.getByTestId("group-panel-toggle").click();
    await expect(a.page.getByTestId("group-member")).toHaveCount(3);
  });

  await test.step("the owner appoints B; every panel shows the role live", async () => {
    await member(a.page, b.id).getByTestId("member-admin-toggle").click();
    await expect(a.page.getByTestId("group-panel-result")).toHaveText("Admin appointed");
    for (const u of [a, b, c]) {
      await expect(member(u.page, b.id)).toHaveAttribute("data-role", "admin");
      await expect(member(u.page, b.id).getByTestId("member-role")).toHaveText("admin");
      await expect(member(u.page, a.id).getByTestId("member-role")).toHaveText("owner");
      await expect(member(u.page, c.id)).toHaveAttribute("data-role", "member");
    }
    // The admin moderates C but has no tools for the owner, and never the owner's own tools.
    await expect(member(b.page, c.id).getByTestId("member-mute-toggle")).toBeVisible();
    // Nobody mutes an admin (the owner revokes first).
    await expect(member(a.page, b.id).getByTestId("member-mute-toggle")).toHaveCount(0);
    await expect(member(b.page, c.id).getByTestId("member-remove")).toBeVisible();
    await expect(member(b.page, c.id).getByTestId("member-admin-toggle")).toHaveCount(0);
    await expect(member(b.page, c.id).getByTestId("member-transfer")).toHaveCount(0);
    await expect(member(b.page, a.id).getByTestId("member-mute-toggle")).toHaveCount(0);
    await expect(b.page.getByTestId("group-dismiss")).toHaveCount(0);
    // The ordinary member has none of it.
    await expect(c.page.getByTestId("member-mute-toggle")).toHaveCount(0);
    await expect(c.page.getByTestId("mute-all-toggle")).toHaveCount(0);
    await expect(b.page.getByTestId("mute-all-toggle")).toBeVisible();
    await screenshot(a.page, "admin");
  });

  await test.step("the admin switches mute-all on: C sees the banner and a disabled composer", async () => {
    await b.page.getByTestId("mute-all-toggle").click();
    await expect(b.page.getByTestId("group-panel-result")).toHaveText("Mute-all on");
    for (const u of [a, b, c]) {
      await expect(u.page.getByTestId("mute-all-banner")).toBeVisible();
      await expect(u.page.getByTestId("group-mute-all")).toContainText("on");
    }
    await expect(c.page.getByTestId("composer-input")).toBeDisabled();
    await expect(c.page.getByTestId("composer-send")).toBeDisabled();
    await expect(c.page.getByTestId("composer-disabled-reason")).toContainText("muted for everyone but the owner and admins");
    await expect(c.page.getByTestId("composer-input")).toHaveAttribute("placeholder", /only the owner and admins/);
    // Owner and admin still speak, and C hears them.
    await send(b, "admin speaking");
    await send(a, "owner speaking");
    await expect(messageWith(c.page, "admin speaking")).toBeVisible();
    await expect(messageWith(c.page, "owner speaking")).toBeVisible();
    await expect(b.page.getByTestId("composer-disabled-reason")).toHaveCount(0);
    await screenshot(c.page, "mute-all");
  });

  await test.step("the owner revokes B while mute-all is on: B is silenced too; the owner turns it off", async () => {
    await member(a.page, b.id).getByTestId("member-admin-toggle").click();
    await expect(a.page.getByTestId("group-panel-result")).toHaveText("Admin revoked");
    await expect(member(b.page, b.id)).toHaveAttribute("data-role", "member");
    await expect(b.page.getByTestId("composer-input")).toBeDisabled();
    await expect(b.page.getByTestId("mute-all-toggle")).toHaveCount(0);

    await a.page.getByTestId("mute-all-toggle").click();
    await expect(a.page.getByTestId("group-panel-result")).toHaveText("Mute-all off");
    await expect(c.page.getByTestId("mute-all-banner")).toHaveCount(0);
    await expect(c.page.getByTestId("composer-input")).toBeEnabled();
    await send(c, "free to talk");
    await expect(messageWith(a.page, "free to talk")).toBeVisible();
  });

  for (const user of [a, b, c]) await user.context.close();
});
