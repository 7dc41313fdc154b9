export * from "./errors.js";
export * from "./ids.js";
export * from "./context.js";
export * from "./auth/password.js";
export * from "./auth/tokens.js";
export * from "./auth/schemas.js";
export * from "./auth/accounts.js";
