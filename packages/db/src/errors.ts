/** PostgreSQL SQLSTATE for unique_violation, reported the same way by PGlite and postgres.js. */
const UNIQUE_VIOLATION = "23505";

export function sqlState(error: unknown): string | undefined {
  // drizzle wraps driver errors in a DrizzleQueryError whose `cause` is the driver's error.
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.length === 5) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (sqlState(error) !== UNIQUE_VIOLATION) return false;
  if (!constraint) return true;
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 4; depth++) {
    const name = (e as { constraint_name?: unknown; constraint?: unknown }).constraint_name ?? (e as { constraint?: unknown }).constraint;
    if (name === constraint) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * SQLSTATE class 22 (data exception): a value the column refuses (too long, an encoding error, a NUL
 * in text). Input validation should catch these first; this tells a bad value from a failure.
 */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith("22") ?? false;
}
