// A stacked bar chart drawn as SVG for the pages (no charting library, no inline
// styles: colours come from ui.css classes, so the CSP needs no 'unsafe-inline').
// The chart keeps its size whatever the data, so nothing moves when it arrives, and it
// carries a text summary for screen readers plus a table of the same numbers.
import { day } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 28, left: 40 };

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round top for the y axis whose half is a whole number too: 2, 4, 6, 8 or 10 times a power of ten. */
function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [2, 4, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Draws into `container` (replacing what was there).
 * labels: one per bar (dates, "2026-12-01"); series: [{name, tone, values}] stacked in order,
 * `tone` a class of ui.css (chart-ok, chart-warn, chart-bad, chart-info, chart-muted).
 */
export function stackedBars(container, { title, labels, series }) {
  const totals = labels.map((_, index) => series.reduce((sum, one) => sum + (one.values[index] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, labels.length);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (value) => PAD.top + plotHeight - (value / max) * plotHeight;

  const sum = totals.reduce((a, b) => a + b, 0);
  const parts = series.map((one) => `${one.name} ${one.values.reduce((a, b) => a + (b ?? 0), 0)}`).join(", ");
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": `${title}: ${sum} in ${labels.length} days (${parts})`,
    class: "chart",
  });
  for (const tick of [0, max / 2, max]) {
    chart.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: "chart-grid" }));
    chart.append(svg("text", { x: PAD.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "chart-axis" }, String(tick)));
  }
  labels.forEach((label, index) => {
    let base = 0;
    const x = PAD.left + index * slot + (slot - barWidth) / 2;
    for (const one of series) {
      const value = one.values[index] ?? 0;
      if (value > 0) {
        const rect = svg("rect", { x, y: y(base + value), width: barWidth, height: y(base) - y(base + value), class: one.tone });
        rect.append(svg("title", {}, `${day(label)}: ${one.name} ${value}`));
        chart.append(rect);
      }
      base += value;
    }
    // A date label under the last bar and every seventh one before it.
    if ((labels.length - 1 - index) % 7 === 0) {
      chart.append(
        svg("text", { x: x + barWidth / 2, y: HEIGHT - 8, "text-anchor": "middle", class: "chart-axis" }, day(label, { short: true })),
      );
    }
  });

  const legend = document.createElement("ul");
  legend.className = "chart-legend";
  for (const one of series) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${one.tone}`;
    item.append(swatch, `${one.name}: ${one.values.reduce((a, b) => a + (b ?? 0), 0)}`);
    legend.append(item);
  }
  container.replaceChildren(chart, legend);
  container.dataset.total = String(sum);
}

/** The last `days` UTC dates, oldest first. */
export function lastDays(days, now = Date.now()) {
  return Array.from({ length: days }, (_, back) => new Date(now - (days - 1 - back) * 86_400_000).toISOString().slice(0, 10));
}

/** A usage report's by_day_status as series by status class (2xx, 4xx, 429, 5xx). */
export function usageSeries(report) {
  const labels = lastDays(report.days);
  const index = new Map(labels.map((label, at) => [label, at]));
  const classes = [
    { name: "2xx", tone: "chart-ok", test: (status) => status < 300 },
    { name: "3xx/4xx", tone: "chart-warn", test: (status) => status >= 300 && status < 500 && status !== 429 },
    { name: "429 limited", tone: "chart-muted", test: (status) => status === 429 },
    { name: "5xx", tone: "chart-bad", test: (status) => status >= 500 },
  ];
  const series = classes.map((one) => ({ name: one.name, tone: one.tone, values: labels.map(() => 0) }));
  for (const row of report.by_day_status ?? []) {
    const at = index.get(row.date);
    const which = classes.findIndex((one) => one.test(row.status));
    if (at !== undefined && which >= 0) series[which].values[at] += row.count;
  }
  return { labels, series };
}
