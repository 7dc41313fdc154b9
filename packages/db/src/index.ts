export * from "./client.js";
export * from "./schema/index.js";
export { isDataException, isUniqueViolation, sqlState } from "./errors.js";
