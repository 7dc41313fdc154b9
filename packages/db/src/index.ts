export * from "./client.js";
export * from "./schema/index.js";
export { isUniqueViolation } from "./errors.js";
