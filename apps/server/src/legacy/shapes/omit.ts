/**
 * Go's `omitempty`: drops the listed keys whose value is empty ("", 0, false, null, an empty list),
 * as the legacy DTOs did. Dropping matters: the client spreads the raw item over its own
 * fallbacks, so an empty string sent would win over them.
 */
export function omitEmpty<T extends Record<string, unknown>>(item: T, keys: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = { ...item };
  for (const key of keys) {
    const v = item[key];
    if (v === "" || v === 0 || v === false || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) delete out[key];
  }
  return out;
}
