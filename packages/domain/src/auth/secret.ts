import { serverSecrets, type Db } from "@omnilink/db";
import { eq } from "drizzle-orm";

/**
 * The secret stored under `name`, storing `candidate` first when there is none: every node of one
 * database ends up with the same value, whichever node starts first. `stored` tells whether this
 * call stored its candidate.
 */
export async function claimServerSecret(db: Db, name: string, candidate: string): Promise<{ value: string | undefined; stored: boolean }> {
  const [inserted] = await db
    .insert(serverSecrets)
    .values({ name, value: candidate })
    .onConflictDoNothing()
    .returning({ value: serverSecrets.value });
  if (inserted) return { value: inserted.value, stored: true };
  const [row] = await db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, name));
  return { value: row?.value, stored: false };
}
