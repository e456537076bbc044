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
  if (width >= narrowest || new Set(panels.map((p) => p.x.join())).size < 2) return layout;
  panels.sort((a, b) => b.y[1] - a.y[1] || a.x[0] - b.x[0]);  // reading order
  const stacked = structuredClone(layout);
  const n = panels.length;
  const height = 330 * n;
  const gap = 60 / height;  // room for each panel's title
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
  return stacked;
}
