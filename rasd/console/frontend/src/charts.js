// rasd console pictures: alerts per hour, hits per rule, feed and lag charts (uPlot) and the
// map of alert places on Natural Earth's outline (world-atlas, bundled: no tile server).
// Every chart fills a table next to it from the same figures, so nothing is only a picture.
// Values go on the page with textContent; figures come from the console's own API.
import uPlot from "uplot";
import { feature } from "topojson-client";
import world from "world-atlas/countries-110m.json";

const SEVERITY_COLOURS = {
  info: "#8a8f98",
  low: "#3b82f6",
  medium: "#d97706",
  high: "#dc2626",
  critical: "#7f1d1d",
};
const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d"];

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response.json();
}

function times(start, step, n) {
  const t0 = Date.parse(start) / 1000;
  return Array.from({ length: n }, (_, i) => t0 + i * step);
}

function cell(tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

// A table of the non-empty rows of a chart: time, then one column per series.
function fillTable(table, xs, names, columns, label) {
  const head = document.createElement("tr");
  head.append(cell("th", label), ...names.map((n) => cell("th", n)));
  const rows = [];
  xs.forEach((x, i) => {
    if (!columns.some((col) => col[i])) return;
    const tr = document.createElement("tr");
    tr.append(cell("td", new Date(x * 1000).toISOString().slice(0, 16).replace("T", " ")));
    columns.forEach((col) => tr.append(cell("td", col[i] == null ? "-" : String(col[i]), "num")));
    rows.push(tr);
  });
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  if (rows.length) tbody.append(...rows);
  else {
    const tr = document.createElement("tr");
    const td = cell("td", "Nothing in this period.", "empty");
    td.colSpan = names.length + 1;
    tr.append(td);
    tbody.append(tr);
  }
  table.replaceChildren(thead, tbody);
}

function plot(target, xs, names, columns, colours, opts) {
  const width = Math.max(300, target.clientWidth || 800);
  const series = [{}].concat(
    names.map((name, i) => ({
      label: name,
      stroke: colours[i],
      fill: opts.fill ? colours[i] + "33" : undefined,
      width: 1.5,
      spanGaps: false,
      // Minute series are sparse (a sample a minute, gaps when nothing ran): dots show a
      // lone sample that a line alone would not.
      points: { show: !!opts.points, size: 6 },
    })),
  );
  target.replaceChildren();
  const chart = new uPlot(
    { width: width, height: opts.height || 200, series: series, axes: opts.axes, legend: opts.legend },
    [xs].concat(columns),
    target,
  );
  target.dataset.ready = "true";
  target.dataset.points = String(columns.reduce((n, c) => n + c.filter((v) => v).length, 0));
  return chart;
}

function summary(el, text) {
  if (el) el.textContent = text;
}

async function timeChart(section) {
  const plotEl = section.querySelector(".plot");
  const table = section.querySelector("table.chart-table");
  const data = await getJSON(section.dataset.src);
  const kind = section.dataset.kind;
  let xs, names, columns, colours, label;
  if (kind === "alerts-per-hour") {
    xs = times(data.start, data.bucket_seconds, data.buckets);
    names = Object.keys(data.counts);
    columns = names.map((n) => data.counts[n]);
    colours = names.map((n) => SEVERITY_COLOURS[n] || "#444");
    label = "Hour (UTC)";
    const total = columns.reduce((s, c) => s + c.reduce((a, b) => a + b, 0), 0);
    summary(section.querySelector(".chart-summary"), total + (total === 1 ? " alert" : " alerts") +
      " in the last 7 days: " +
      names.map((n, i) => n + " " + columns[i].reduce((a, b) => a + b, 0)).join(", ") + ".");
  } else {
    const series = data[section.dataset.series];
    xs = times(series.start, 60, series.minutes);
    names = Object.keys(series.values).sort();
    columns = names.map((n) => series.values[n]);
    colours = names.map((_, i) => PALETTE[i % PALETTE.length]);
    label = "Minute (UTC)";
    const totals = names.map((n, i) => {
      const vals = columns[i].filter((v) => v != null);
      return section.dataset.series === "lag"
        ? n + " now " + (vals.length ? vals[vals.length - 1] : "-")
        : n + " " + vals.reduce((a, b) => a + b, 0) + " articles";
    });
    summary(section.querySelector(".chart-summary"),
      names.length ? totals.join(", ") + "." : "Nothing recorded in the last hour.");
  }
  fillTable(table, xs, names, columns, label);
  const hourly = kind === "alerts-per-hour";
  plot(plotEl, xs, names, columns, colours, { fill: hourly, points: !hourly });
}

async function sparklines(table) {
  const data = await getJSON(table.dataset.sparklines);
  const xs = times(data.start, data.bucket_seconds, data.buckets);
  table.querySelectorAll("td.spark[data-rule]").forEach((td) => {
    const counts = data.counts[td.dataset.rule] || new Array(data.buckets).fill(0);
    const total = counts.reduce((a, b) => a + b, 0);
    const box = document.createElement("div");
    box.className = "sparkline";
    td.replaceChildren(box, cell("span", total + " in 7 d", "visually-hidden spark-text"));
    td.title = "hits per 6 hours, last 7 days: " + counts.join(" ");
    new uPlot(
      {
        width: 120,
        height: 28,
        cursor: { show: false },
        legend: { show: false },
        axes: [{ show: false }, { show: false }],
        // Margins above and below, so that a quiet rule's flat line at 0 stays visible.
        scales: { x: { time: false }, y: { range: [-0.15, Math.max(1, ...counts) * 1.15] } },
        series: [{}, { stroke: "#2563eb", fill: "#2563eb22", width: 1 }],
      },
      [xs, counts],
      box,
    );
    box.dataset.ready = "true";
    box.dataset.total = String(total);
  });
}

// Equirectangular on the region the gazetteer covers (Morocco to Iran, Turkey to Yemen).
const VIEW = { west: -20, east: 66, north: 44, south: 8 };
const SCALE = 10;
function project(lon, lat) {
  return [(lon - VIEW.west) * SCALE, (VIEW.north - lat) * SCALE];
}

function pathOf(geometry) {
  const rings = [];
  const polygons =
    geometry.type === "Polygon" ? [geometry.coordinates] :
    geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  for (const polygon of polygons) {
    for (const ring of polygon) {
      rings.push("M" + ring.map(([x, y]) => project(x, y).map((v) => v.toFixed(1)).join(",")).join("L") + "Z");
    }
  }
  return rings.join("");
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

async function placesMap(section) {
  const places = await getJSON(section.dataset.src);
  const holder = section.querySelector(".map");
  const width = (VIEW.east - VIEW.west) * SCALE;
  const height = (VIEW.north - VIEW.south) * SCALE;
  const map = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "world" });
  const title = svg("title", {});
  title.textContent = "Map of the places named by the alerts in view";
  map.append(title);
  const countryNames = new Map(
    places.filter((p) => p.kind === "country").map((p) => [p.name.toLowerCase(), p]),
  );
  for (const country of feature(world, world.objects.countries).features) {
    const name = (country.properties.name || "").toLowerCase();
    const hit = countryNames.get(name);
    const shape = svg("path", { d: pathOf(country.geometry), class: hit ? "land hit" : "land" });
    if (hit) {
      shape.dataset.place = hit.id;
      const t = svg("title", {});
      t.textContent = hit.name + ": " + hit.alerts + " alerts";
      shape.append(t);
    }
    map.append(shape);
  }
  const most = Math.max(1, ...places.map((p) => p.alerts));
  for (const place of places) {
    if (place.lat == null || place.lon == null) continue;
    const [x, y] = project(place.lon, place.lat);
    const dot = svg("circle", {
      cx: x.toFixed(1), cy: y.toFixed(1), r: (4 + 8 * Math.sqrt(place.alerts / most)).toFixed(1),
      class: "place-dot",
    });
    dot.dataset.place = place.id;
    const t = svg("title", {});
    t.textContent = place.name + ": " + place.alerts + " alerts";
    dot.append(t);
    map.append(dot);
  }
  holder.replaceChildren(map);
  holder.dataset.ready = "true";

  const table = section.querySelector("table.chart-table");
  const head = document.createElement("thead");
  const hr = document.createElement("tr");
  hr.append(cell("th", "Place"), cell("th", "Kind"), cell("th", "Alerts"), cell("th", "Latitude, longitude"));
  head.append(hr);
  const body = document.createElement("tbody");
  for (const place of places) {
    const tr = document.createElement("tr");
    tr.dataset.place = place.id;
    tr.append(
      cell("td", place.name), cell("td", place.kind), cell("td", String(place.alerts), "num"),
      cell("td", place.lat == null ? "outline" : place.lat.toFixed(2) + ", " + place.lon.toFixed(2)),
    );
    body.append(tr);
  }
  if (!places.length) {
    const tr = document.createElement("tr");
    const td = cell("td", "No alert in view names a place.", "empty");
    td.colSpan = 4;
    tr.append(td);
    body.append(tr);
  }
  table.replaceChildren(head, body);
  summary(section.querySelector(".chart-summary"), places.length
    ? places.length + " places: " + places.slice(0, 8).map((p) => p.name + " (" + p.alerts + ")").join(", ") + "."
    : "No alert in view names a place.");
}

function run(fn, el) {
  fn(el).catch((error) => {
    el.dataset.error = String(error);
    summary(el.querySelector(".chart-summary"), "Chart unavailable: " + error.message);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("section.chart[data-kind]").forEach((s) => run(timeChart, s));
  document.querySelectorAll("table[data-sparklines]").forEach((t) => run(sparklines, t));
  document.querySelectorAll("section.places-map").forEach((s) => run(placesMap, s));
});
