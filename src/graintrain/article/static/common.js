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
