const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-11-25 13:22 UTC": ops people compare times across zones, so UTC throughout. */
export function utc(iso: string | null | undefined, seconds = false): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds ? `:${pad(d.getUTCSeconds())}` : ""}`;
  return `${date} ${time} UTC`;
}

/** "in 3 days", "2 hours ago". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "";
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return "";
  const abs = Math.abs(ms);
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
  ];
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.round(abs / size);
      const s = `${n} ${name}${n === 1 ? "" : "s"}`;
      return ms >= 0 ? `in ${s}` : `${s} ago`;
    }
  }
  return ms >= 0 ? "in under a minute" : "just now";
}

export const num = (n: number | null | undefined): string =>
  typeof n === "number" ? n.toLocaleString("en-US") : "—";

export const plural = (n: number, word: string, many = `${word}s`): string =>
  `${num(n)} ${n === 1 ? word : many}`;
