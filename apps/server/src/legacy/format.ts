const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, "0");

function parts(d: Date) {
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  };
}

/** `2006-01-02 15:04:05` in server local time (login/register `created_at`, `last_apply_at`). */
export function formatDateTime(d: Date): string {
  const { date, time } = parts(d);
  return `${date} ${time}`;
}

/** RFC 3339 without fractions, in server local time with its offset: `2026-02-06T17:53:52+08:00`. */
export function formatRfc3339(d: Date): string {
  const { date, time } = parts(d);
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? "Z" : `${offset > 0 ? "+" : "-"}${pad(offset / 60)}:${pad(offset % 60)}`;
  return `${date}T${time}${zone}`;
}
