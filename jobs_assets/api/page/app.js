// The search page: plain DOM and inline SVG, no framework and no CDN.
// Every value from the API goes into the page as text (textContent), never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#e8590c", "#0b7285"];
let nextCursor = null;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// An answer that is not JSON (a proxy's error page, a bare "Internal Server Error") or an
// error answer becomes an Error whose message is a sentence, never a parse error.
async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (error) {
    throw new Error("the server could not be reached.");
  }
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (error) { /* not JSON: said below */ }
  if (!response.ok) {
    const said = body && typeof body.message === "string" ? body.message : null;
    throw new Error(said || `the server answered ${response.status} ${response.statusText || "(no reason given)"}.`);
  }
  if (body === null) throw new Error("the server's answer was not readable.");
  return body;
}

function searchParams() {
  const form = document.getElementById("search");
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (String(value).trim()) params.set(name, String(value).trim());
  if (params.get("sort") === "relevance" && !params.get("q")) params.set("sort", "newest");
  return params;
}

function money(value) {
  return value == null ? null : "$" + Math.round(value).toLocaleString("en-US");
}

function listingItem(item) {
  const li = el("li");
  const link = el("a", { class: "title", href: item.job_url || "#", rel: "noopener noreferrer", target: "_blank" },
    item.title || "(untitled)");
  li.append(link);
  const salary = [money(item.salary.min_usd_annual), money(item.salary.max_usd_annual)].filter(Boolean).join("–");
  const quoted = item.salary.original_period && item.salary.original_period !== "year"
    ? ` (quoted by the ${item.salary.original_period})` : "";
  const meta = [item.company, item.region, item.job_type, salary && salary + " a year" + quoted,
    item.published_at && item.published_at.slice(0, 10)].filter(Boolean).join(" · ");
  li.append(el("div", { class: "meta" }, meta));
  const credit = el("div", { class: "attribution" }, "Listing from ");
  credit.append(el("a", { href: item.attribution.url || "#", rel: "noopener noreferrer", target: "_blank" },
    item.attribution.source_name));
  li.append(credit);
  return li;
}

// The filters of the form, as a saved search's `query` (the same names as /listings;
// sort and duplicates only order and group a page, so they are not part of a search).
const NOT_FILTERS = new Set(["sort", "include_duplicates"]);

function currentQuery() {
  const query = {};
  for (const [name, value] of searchParams()) {
    if (NOT_FILTERS.has(name)) continue;
    query[name] = name === "min_salary_usd" ? Number(value) : value;
  }
  return query;
}

async function postJSON(url, body) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    throw new Error("the server could not be reached.");
  }
  let answer = null;
  try { answer = await response.json(); } catch (error) { /* said below */ }
  if (!response.ok) {
    const said = answer && typeof answer.message === "string" ? answer.message : null;
    throw new Error(said || `the server answered ${response.status} ${response.statusText || "(no reason given)"}.`);
  }
  return answer;
}

// "Save this search": POST /searches with the filters; the answer's feed URL (with the
// search's token, shown once) goes in a box to copy. A webhook URL saves the same filters
// again, delivered to that URL.
async function saveSearch(deliver) {
  const status = document.getElementById("save-status");
  status.textContent = "Saving…";
  try {
    const saved = await postJSON("/searches", { query: currentQuery(), deliver });
    document.getElementById("feed-url").value = saved.feed_url;
    document.getElementById("saved").hidden = false;
    status.textContent = deliver.webhook_url
      ? "Saved: new matches will be sent to your webhook after each load. Its feed URL is below."
      : "Saved. Add the feed URL below to a feed reader, or give a webhook URL.";
  } catch (error) {
    status.textContent = "Could not save: " + error.message;
  }
}

// --- facets: listings per value under the other filters; a click sets that filter ---------
// (GET /listings?facets=...: a facet's counts ignore its own filter, so every region stays
// on offer while region=Europe is set; clicking the value that is set clears it)
const FACETS = [
  ["source", "Source"], ["region", "Region"], ["category", "Category"],
  ["seniority", "Seniority"], ["salary_band", "Salary (USD a year)"],
];
const BANDS = {
  under_50k: "under $50k", "50k_100k": "$50k–100k", "100k_150k": "$100k–150k",
  "150k_200k": "$150k–200k", "200k_plus": "$200k or more", not_stated: "not stated",
};

function facetLabel(name, value) {
  return name === "salary_band" ? (BANDS[value] || value) : value;
}

function setFilter(name, value) {
  const control = document.getElementById(name);
  const current = control.value.trim().toLowerCase();
  const next = current === value.toLowerCase() ? "" : value;  // a second click clears it
  if (next && control.tagName === "SELECT" && ![...control.options].some((o) => o.value === next)) {
    control.append(el("option", { value: next }, facetLabel(name, next)));
  }
  control.value = next;
  search(false);
}

function showFacets(facets) {
  const area = document.getElementById("facets");
  area.replaceChildren();
  for (const [name, title] of FACETS) {
    const values = (facets && facets[name]) || [];
    if (!values.length) continue;
    const group = el("div", { class: "facet", "data-facet": name });
    const heading = el("h3", { id: `facet-${name}` }, title);
    const list = el("ul", { "aria-labelledby": `facet-${name}` });
    const current = document.getElementById(name).value.trim().toLowerCase();
    for (const { value, listings } of values) {
      const button = el("button", {
        type: "button", "data-value": value, "aria-pressed": String(current === value.toLowerCase()),
      }, facetLabel(name, value) + " ");
      button.append(el("span", { class: "count" }, `(${listings.toLocaleString("en-US")})`));
      button.addEventListener("click", () => setFilter(name, value));
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    group.append(heading, list);
    area.append(group);
  }
}

async function search(append) {
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const more = document.getElementById("more");
  const params = searchParams();
  if (append && nextCursor) params.set("cursor", nextCursor);
  else params.set("facets", FACETS.map(([name]) => name).join(","));
  status.textContent = "Searching…";
  try {
    const page = await getJSON("/listings?" + params);
    if (!append) { results.replaceChildren(); showFacets(page.facets); }
    page.items.forEach((item) => results.append(listingItem(item)));
    nextCursor = page.next_cursor;
    more.hidden = !nextCursor;
    const shown = results.children.length;
    status.textContent = shown ? `${shown} listing${shown === 1 ? "" : "s"} shown` + (nextCursor ? ", more available." : ".")
      : "No listings match.";
  } catch (error) {
    status.textContent = "Search failed: " + error.message;
  }
}

function legend(names) {
  const box = el("div", { class: "legend" });
  names.forEach((name, i) => {
    const entry = el("span");
    entry.append(el("span", { class: "swatch", style: `background:${COLOURS[i % COLOURS.length]}` }), name);
    box.append(entry);
  });
  return box;
}

function dataTable(caption, header, rows) {
  const table = el("table", { class: "visually-hidden" });
  table.append(el("caption", {}, caption));
  const head = el("tr");
  header.forEach((h) => head.append(el("th", { scope: "col" }, h)));
  table.append(head);
  rows.forEach((row) => {
    const tr = el("tr");
    row.forEach((cell) => tr.append(el("td", {}, String(cell))));
    table.append(tr);
  });
  return table;
}

function postingsChart(rows) {
  const target = document.getElementById("postings-chart");
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const sources = [...new Set(rows.map((r) => r.source))].sort();
  if (!days.length) {
    target.replaceChildren(el("p", {}, "No postings in the last 30 days of data yet: the chart fills in once listings are loaded and the marts are built."));
    return;
  }
  const W = 480, H = 220, L = 40, B = 24, max = Math.max(1, ...rows.map((r) => r.new_listings));
  const x = (i) => L + (days.length === 1 ? 0 : (i * (W - L - 10)) / (days.length - 1));
  const y = (v) => H - B - (v * (H - B - 10)) / max;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "postings-caption" });
  chart.append(svg("line", { x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: "#999" }));
  chart.append(svg("text", { x: 2, y: 14 }, String(max)), svg("text", { x: 2, y: H - B }, "0"));
  chart.append(svg("text", { x: L, y: H - 6 }, days[0]), svg("text", { x: W - 75, y: H - 6 }, days[days.length - 1]));
  sources.forEach((source, s) => {
    const points = days.map((day, i) => {
      const row = rows.find((r) => r.day === day && r.source === source);
      return `${x(i)},${y(row ? row.new_listings : 0)}`;
    });
    chart.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: COLOURS[s % COLOURS.length], "stroke-width": 2 }));
  });
  target.replaceChildren(chart, legend(sources),
    dataTable("New listings per day, by source", ["Day", "Source", "New listings"], rows.map((r) => [r.day, r.source, r.new_listings])));
}

function salaryChart(stats) {
  const target = document.getElementById("salary-chart");
  const shown = stats.regions.filter((r) => r.median_usd != null);
  if (!shown.length) {
    target.replaceChildren(el("p", {}, stats.note || "No salary figures yet."));
    return;
  }
  const W = 480, row = 26, L = 120, H = shown.length * row + 10, max = Math.max(...shown.map((r) => r.median_usd));
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "salary-caption" });
  shown.forEach((r, i) => {
    const width = ((W - L - 70) * r.median_usd) / max;
    chart.append(svg("text", { x: 0, y: i * row + 18 }, r.region || "(unknown)"));
    chart.append(svg("rect", { x: L, y: i * row + 5, width, height: row - 8, fill: COLOURS[0] }));
    chart.append(svg("text", { x: L + width + 4, y: i * row + 18 }, money(r.median_usd)));
  });
  target.replaceChildren(chart, dataTable("Median salary by region", ["Region", "Median (USD a year)", "Listings"],
    shown.map((r) => [r.region, money(r.median_usd), r.listings])));
}

async function loadSources() {
  try {
    const schema = await getJSON("/openapi.json");
    const param = schema.paths["/listings"].get.parameters.find((p) => p.name === "source");
    const names = (param.schema.anyOf || [param.schema]).flatMap((s) => s.enum || (s.$ref ? schema.components.schemas[s.$ref.split("/").pop()].enum : []));
    const select = document.getElementById("source");
    names.forEach((name) => select.append(el("option", { value: name }, name)));
  } catch (error) { /* the list stays "All sources" */ }
}

function unavailable(id, error) {
  document.getElementById(id).replaceChildren(el("p", {}, "Not available: " + error.message));
}

async function loadCharts() {
  try { postingsChart((await getJSON("/stats/postings")).rows); }
  catch (error) { unavailable("postings-chart", error); }
  try { salaryChart(await getJSON("/stats/salaries")); }
  catch (error) { unavailable("salary-chart", error); }
}

// The region and category boxes suggest, and the seniority list offers, the labels
// listings really carry (GET /facets); the API compares them ignoring case, so "europe"
// finds "Europe" too.
async function loadFacets() {
  try {
    const facets = await getJSON("/facets");
    for (const [name, list, input] of [["regions", "region-values", "region"], ["categories", "category-values", "category"]]) {
      const options = document.getElementById(list);
      options.replaceChildren(...facets[name].map((f) => el("option", { value: f.value }, `${f.value} (${f.listings})`)));
      if (facets[name].length) document.getElementById(input).placeholder = facets[name][0].value;
    }
    const seniority = document.getElementById("seniority");
    facets.seniorities.forEach((f) => seniority.append(el("option", { value: f.value }, f.value)));
  } catch (error) { /* the boxes still take any text */ }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search").addEventListener("submit", (event) => { event.preventDefault(); search(false); });
  document.getElementById("more").addEventListener("click", () => search(true));
  document.getElementById("save-search").addEventListener("click", () => saveSearch({}));
  document.getElementById("webhook-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveSearch({ webhook_url: document.getElementById("webhook-url").value.trim() });
  });
  const band = document.getElementById("salary_band");
  Object.entries(BANDS).forEach(([value, label]) => band.append(el("option", { value }, label)));
  loadSources();
  loadFacets();
  search(false);
  loadCharts();
});
