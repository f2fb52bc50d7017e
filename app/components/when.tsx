// A moment, written out at render time in UTC (never a stored "in 59 seconds").
const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const preciseFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

export function When({ date, seconds = false }: { date: Date; seconds?: boolean }) {
  return <time dateTime={date.toISOString()}>{(seconds ? preciseFormat : dateFormat).format(date)} UTC</time>;
}
