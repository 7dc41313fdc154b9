export { appRouter, createCaller, type AppRouter } from "./root.js";
export { bearerToken, createApiContext } from "./context.js";
export type { ApiContext, AuthAdmission, SocketState } from "./trpc.js";
