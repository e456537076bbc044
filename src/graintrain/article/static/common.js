// What every page shares: the colours (one table with Python's, embedded in each page), Plotly
// layouts that follow the page's light or dark theme, and state kept in the URL query.

export const palette = JSON.parse(document.getElementById("palette")?.textContent || '{"grains": {}, "experts": ["#1f77b4"]}');

// A grain keeps its own colour everywhere; any other class or expert takes the k-th expert colour.
export function classColour(name, k) {
  return palette.grains[name] ?? palette.experts[k % palette.experts.length];
}

export function themeLayout(layout) {
  const style = getComputedStyle(document.body);
  const ink = style.getPropertyValue("--ink").trim() || "#222";
  const grid = style.getPropertyValue("--grid").trim() || "#ddd";
  const themed = structuredClone(layout);
  Object.assign(themed, {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: style.fontFamily, color: ink, size: 13 },
    autosize: true,
  });
  if (!Object.keys(themed).some((key) => /^scene\d*$/.test(key))) {  // Plotly's own grid is white
    for (const axis of ["xaxis", "yaxis"]) themed[axis] = themed[axis] || {};
  }
  for (const key of Object.keys(themed)) {
    if (/^[xy]axis\d*$/.test(key)) Object.assign(themed[key], { gridcolor: grid, zerolinecolor: grid });
    if (/^scene\d*$/.test(key)) {
      for (const axis of ["xaxis", "yaxis", "zaxis"]) {
        themed[key][axis] = Object.assign(themed[key][axis] || {}, { gridcolor: grid, backgroundcolor: "rgba(0,0,0,0)" });
      }
    }
  }
  return themed;
}

// Plotly puts a legend's y in the plot's own height, so a legend "under" the plot (y < 0) lands on
// the x axis's title as soon as it wraps into more rows, as it does on a phone. At the foot of
// the whole figure (yref "container") Plotly widens the bottom margin to hold it instead. `room`
// is how much that margin grew the last time the figure was drawn: the figure grows by as much,
// so the plot keeps its height, and `height` is what it would be without a legend.
export function legendAtFoot(layout, height, room = 0) {
  const legend = layout.legend;
  if (!legend || legend.orientation !== "h" || !(legend.y < 0) || legend.yref === "container") return layout;
  const moved = structuredClone(layout);
  Object.assign(moved.legend, { yref: "container", y: 0, yanchor: "bottom" });
  moved.height = (layout.height || height) + room;
  return moved;
}

// A mode bar shows over the top right corner of the plot, where a right-hand panel's title or a
// label at a panel's top sits. Where it can show (style.css hides it on narrow screens), such
// titles and labels get a strip of their own above it.
const MODEBAR = 24;
export function roomForModebar(layout, width, narrowest = 600) {
  const top = (note) => /^paper$|domain$/.test(note.yref || "") && note.y >= 0.95;  // over or atop a panel
  if (width < narrowest || !(layout.title?.text || (layout.annotations || []).some(top))) return layout;
  const roomy = structuredClone(layout);
  roomy.margin = Object.assign({ t: 100 }, roomy.margin);
  roomy.margin.t += MODEBAR;
  return roomy;
}

// Settings in the query string; a prefix keeps one figure's controls apart from another's.
export function urlState(prefix = "") {
  const key = (name) => (prefix ? `${prefix}.${name}` : name);
  return {
    get(name) { return new URLSearchParams(location.search).get(key(name)); },
    set(name, value) {
      const params = new URLSearchParams(location.search);
      if (value === null || value === undefined || value === "") params.delete(key(name));
      else params.set(key(name), value);
      const query = params.toString();
      history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
    },
  };
}

// On a narrow screen, panels side by side grow too thin to read and their titles collide: put
// them one above another, each with its title over it, and make the figure tall enough for all.
export function stackPanels(layout, width, narrowest = 600) {
  const panels = [];  // one per cartesian x axis or 3D scene, with its place on the page
  for (const [key, value] of Object.entries(layout)) {
    const m = key.match(/^(xaxis|scene)(\d*)$/);
    if (!m || !value) continue;
    const x = m[1] === "scene" ? value.domain?.x : value.domain;
    const y = m[1] === "scene" ? value.domain?.y : layout[`yaxis${m[2]}`]?.domain;
    if (x) panels.push({ kind: m[1], suffix: m[2], x, y: y || [0, 1] });
  }
  if (width >= narrowest || new Set(panels.map((p) => p.x.join())).size < 2) return sayXTitleOnce(layout);
  panels.sort((a, b) => b.y[1] - a.y[1] || a.x[0] - b.x[0]);  // reading order
  const stacked = structuredClone(layout);
  const n = panels.length;
  const height = 330 * n;
  // Room over each panel for its title, and under it for its x title unless only the last says it.
  const said = new Set(panels.filter((p) => p.kind === "xaxis").map((p) => xTitle(layout[`xaxis${p.suffix}`])));
  const gap = (said.size > 1 ? 90 : 60) / height;
  const rows = panels.map((_, i) => [1 - (i + 1) / n + gap / 2, 1 - i / n - gap]);
  panels.forEach((p, i) => {
    if (p.kind === "scene") stacked[`scene${p.suffix}`].domain = { x: [0, 1], y: rows[i] };
    else {
      stacked[`xaxis${p.suffix}`].domain = [0, 1];
      stacked[`yaxis${p.suffix}`] = Object.assign(stacked[`yaxis${p.suffix}`] || {}, { domain: rows[i] });
    }
  });
  for (const note of stacked.annotations || []) {  // subplot titles sit centred over their panel
    if (note.xref !== "paper" || note.yref !== "paper") continue;
    const i = panels.findIndex((p) => note.x >= p.x[0] - 1e-6 && note.x <= p.x[1] + 1e-6 &&
                                      Math.abs(note.y - p.y[1]) < 0.05);
    if (i >= 0) Object.assign(note, { x: 0.5, y: rows[i][1], yanchor: "bottom" });
  }
  stacked.height = height;
  return sayXTitleOnce(stacked);
}

const xTitle = (axis) => (typeof axis?.title === "string" ? axis.title : axis?.title?.text) || "";

// Panels in one column that share an x title say it once, under the lowest: the same words over
// every gap between panels would sit on the next panel's own title.
function sayXTitleOnce(layout) {
  const lowest = new Map();  // column and title -> the axis nearest the foot of the figure
  const axes = Object.keys(layout).filter((key) => /^xaxis\d*$/.test(key) && xTitle(layout[key]));
  const bottom = (key) => layout[`yaxis${(layout[key].anchor || "y").slice(1)}`]?.domain?.[0] ?? 0;
  for (const key of axes) {
    const column = `${(layout[key].domain || [0, 1]).join()} ${xTitle(layout[key])}`;
    if (!lowest.has(column) || bottom(key) < bottom(lowest.get(column))) lowest.set(column, key);
  }
  const once = [...lowest.values()];
  if (once.length === axes.length) return layout;
  const shown = structuredClone(layout);
  for (const key of axes) if (!once.includes(key)) shown[key].title = { text: "" };
  return shown;
}

// Colour contrast (WCAG 2.1): a line or a dot that carries meaning should stand at least 3:1 from
// the page. Colours are "#rgb", "#rrggbb", "rgb()" or "rgba()"; anything else is left alone.
function parseColour(text) {
  if (typeof text !== "string") return null;
  let m = text.trim().match(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i);
  if (m) {
    const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1];
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)).concat(1);
  }
  m = text.match(/^rgba?\(([^)]*)\)$/);
  if (!m) return null;
  const parts = m[1].split(",").map(Number);
  return parts.length >= 3 && parts.every(Number.isFinite) ? [...parts.slice(0, 3), parts[3] ?? 1] : null;
}
const luminance = (rgb) => {
  const [r, g, b] = rgb.slice(0, 3).map((v) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
export const contrast = (a, b) => { const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
const hex = (rgb) => `#${rgb.slice(0, 3).map((v) => v.toString(16).padStart(2, "0")).join("")}`;

export const page = () => parseColour(getComputedStyle(document.body).backgroundColor.replace(/^rgba?\(([^)]*)\)$/, "rgb($1)")) || [255, 255, 255];
export const darkPage = () => luminance(page()) < 0.2;

// The colour a mark shows on the page (its opacity blended in) and, where that stands less than
// 3:1 from the page, the nearest one towards the page's ink that does not.
function onPage(colour, alpha, paper) {
  const shown = mix(paper, colour, alpha * colour[3]);
  const ink = luminance(paper) < 0.2 ? [255, 255, 255] : [0, 0, 0];
  for (let t = 0; t <= 1; t += 0.02) {
    const tried = mix(shown, ink, t);
    if (contrast(tried, paper) >= 3.1) return tried;  // a little over 3, so rounding cannot undo it
  }
  return ink;
}

// A line or marker drawn pale (opacity below one) in either theme, and any mark in the dark theme
// (the shared palette was chosen for a light page), made to stand 3:1 from the page. A pale mark
// becomes the solid colour it showed, so it keeps its look where it lies on the bare page.
export function legible(data) {
  const paper = page();
  const dark = luminance(paper) < 0.2;
  return data.map((trace) => {
    if ((trace.type || "scatter") !== "scatter") return trace;
    const alpha = trace.opacity ?? 1;
    const parts = [["line", trace.line?.color], ["marker", trace.marker?.color]]
      .map(([part, text]) => [part, parseColour(text)]).filter(([, rgb]) => rgb);
    if (!parts.length || (!dark && alpha * Math.min(...parts.map(([, rgb]) => rgb[3])) >= 1)) return trace;
    const faint = parts.some(([, rgb]) => contrast(mix(paper, rgb, alpha * rgb[3]), paper) < 3);
    if (!faint) return trace;
    const fixed = structuredClone(trace);
    for (const [part, rgb] of parts) fixed[part].color = hex(onPage(rgb, alpha, paper));
    fixed.opacity = 1;
    return fixed;
  });
}

// The page's neutral ink for marks that belong to no grain or model (a recipe card's points):
// `mark` for a point in use, `faded` for one set aside, `edge` for its outline.
export function neutral() {
  return darkPage()
    ? { mark: "#d1d5db", faded: "rgba(209, 213, 219, 0.25)", edge: "#6b7280" }
    : { mark: "#374151", faded: "rgba(55, 65, 81, 0.2)", edge: "#9ca3af" };
}
