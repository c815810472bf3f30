// Small DOM helpers shared by the pages. Text always goes in as text (never as HTML).
export const $ = (id) => document.getElementById(id);

/** el("td", {class: "num"}, "3") — attributes, then children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

/** The page's one message line (role=alert): results and errors. */
export function show(message, tone = "info") {
  const line = $("message");
  line.textContent = message;
  line.dataset.tone = tone;
}

// One date format on every page: the reader's locale, medium style ("Dec 7, 2026, 2:35 AM");
// a day alone ("2026-12-07", a UTC date from the API) in the same style without the time.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const monthDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

export function when(iso) {
  if (iso === null || iso === undefined) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : dateTime.format(date);
}

/** A UTC day ("2026-12-07"): "Dec 7, 2026", or "Dec 7" with `short`. */
export function day(isoDate, { short = false } = {}) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return isoDate;
  return (short ? monthDay : dateOnly).format(date);
}

export function deviceText(device) {
  if (device === null || device === undefined) return "Unknown device";
  return `${device.browser ?? "Unknown browser"} on ${device.os ?? "unknown OS"}`;
}

export function placeText(location) {
  if (location === null || location === undefined || (!location.city && !location.country)) return "Unknown location";
  return [location.city, location.country].filter(Boolean).join(", ");
}

/** A table body's rows, or one row saying there is nothing. */
export function fillRows(tbody, rows, emptyText) {
  const columns = tbody.closest("table")?.querySelectorAll("thead th").length ?? 1;
  tbody.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: columns, class: "empty" }, emptyText))]));
}

/** Runs an async click handler with its button disabled, so a double click sends one call. */
export function busy(button, action) {
  return async (event) => {
    button.disabled = true;
    try {
      await action(event);
    } finally {
      button.disabled = false;
    }
  };
}
