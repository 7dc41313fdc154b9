import { authRouter } from "./routers/auth.js";
import { contactsRouter } from "./routers/contacts.js";
import { groupsRouter } from "./routers/groups.js";
import { liveRouter } from "./routers/live.js";
import { messagesRouter } from "./routers/messages.js";
import { sessionsRouter } from "./routers/sessions.js";
import { createCallerFactory, router } from "./trpc.js";

export const appRouter = router({
  auth: authRouter,
  contacts: contactsRouter,
  groups: groupsRouter,
  sessions: sessionsRouter,
  messages: messagesRouter,
  live: liveRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
