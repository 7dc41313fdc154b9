export { appRouter, type AppRouter } from "./root.js";
export { bearerToken, createApiContext } from "./context.js";
export type { AuthAdmission, AuthAttempt } from "./trpc.js";
