"""Issue 24, part B: each figure makes its point where a reader looks, measured on the page Chromium
drew: the 3D scenes of chapters 4 to 6 as their cameras project them, and chapter 9's switchboard
and blend-vs-compete from the plot data and titles on the page."""

import re

import pytest

from test_browser import app_url, browser, draw, open_page  # noqa: F401  (fixtures and helpers)

# Each scene's axis box and surface as the scene's own camera projects them (projection · view ·
# model, as Plotly places a 3D annotation), in shares of the scene's box: the box's width and height,
# how far out its farthest corner lies (1 is the box's edge), the surface's outline's area, and how
# tall the water axis stands.
PROJECTED = """plot => {
  const mul = (m, v) => [0, 1, 2, 3].map(n => [0, 1, 2, 3].reduce((s, i) => s + m[4 * i + n] * v[i], 0));
  return Object.keys(plot._fullLayout).filter(k => /^scene\\d*$/.test(k)).map(k => {
    const scene = plot._fullLayout[k]._scene;
    const cam = scene.glplot.cameraParams;
    const at = p => { const r = mul(cam.projection, mul(cam.view, mul(cam.model, [...p, 1]))); return [r[0] / r[3], r[1] / r[3]]; };
    const [lo, hi] = scene.glplot.bounds;
    const corners = [];
    for (const a of [lo[0], hi[0]]) for (const b of [lo[1], hi[1]]) for (const c of [lo[2], hi[2]]) corners.push(at([a, b, c]));
    const xs = corners.map(c => c[0]), ys = corners.map(c => c[1]);
    const s = scene.dataScale;
    const t = plot._fullData.find(d => d.type === 'surface' && d.scene === k);
    const [X, Y, Z, n, m] = [t.x, t.y, t.z, t.x.length - 1, t.y.length - 1];
    const ring = [];
    for (let i = 0; i <= n; i++) ring.push([X[i], Y[0], Z[0][i]]);
    for (let j = 0; j <= m; j++) ring.push([X[n], Y[j], Z[j][n]]);
    for (let i = n; i >= 0; i--) ring.push([X[i], Y[m], Z[m][i]]);
    for (let j = m; j >= 0; j--) ring.push([X[0], Y[j], Z[j][0]]);
    const outline = ring.map(([x, y, z]) => at([x * s[0], y * s[1], z * s[2]]));
    let twice = 0;
    outline.forEach((p, i) => { const q = outline[(i + 1) % outline.length]; twice += p[0] * q[1] - q[0] * p[1]; });
    const rise = [at([lo[0], lo[1], lo[2]]), at([lo[0], lo[1], hi[2]])];
    return {width: (Math.max(...xs) - Math.min(...xs)) / 2, height: (Math.max(...ys) - Math.min(...ys)) / 2,
            reach: Math.max(...xs.map(Math.abs), ...ys.map(Math.abs)), surface: Math.abs(twice) / 8,
            water: Math.abs(rise[1][1] - rise[0][1]) / 2};
  });
}"""

# Titles whose drawn boxes overlap, in one figure.
OVERLAPS = """f => {
  const boxes = [...f.querySelectorAll('.annotation-text, .g-gtitle, .legendtext')].map(t => t.getBoundingClientRect());
  return boxes.flatMap((a, i) => boxes.slice(i + 1).filter(b =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)).length;
}"""

SCENES = [("04-the-darkness-meter", "plane-3d"), ("05-relu-networks", "relu-3d"), ("06-sigma-pi", "sigma-pi-3d")]


@pytest.mark.parametrize("chapter, name", SCENES)
def test_each_3d_scene_fills_its_box_and_shows_its_surface_at_a_slant(browser, app_url, chapter, name):
    """On a desktop, the axis box spans at least 60% of its scene's width and of its height; on a
    phone at least 60% of one of them (a wide scene in a narrow box). Never past 95% (the axis labels
    need the rest). The surface's outline covers at least 5% of the box (the plane seen edge-on
    covered 0.6%) and the water axis stands at least 30% of the box's height, so points above and
    below the surface show apart. No two titles overlap."""
    for width, scheme in ((1280, "light"), (375, "dark")):
        page, errors = open_page(browser, f"{app_url}/{chapter}.html", width=width, scheme=scheme, only=name)
        figure = page.locator(f"#fig-{name}")
        page.wait_for_timeout(300)  # the cameras settle a frame after the plot says it is ready
        scenes = page.evaluate(PROJECTED, figure.locator(".plot").element_handle())
        print(name, width, [{k: round(v, 3) for k, v in s.items()} for s in scenes])
        for s in scenes:
            if width > 600:
                assert min(s["width"], s["height"]) >= 0.6, (name, width, s)
            else:
                assert max(s["width"], s["height"]) >= 0.6, (name, width, s)
            assert s["reach"] <= 0.95, (name, width, s)
            assert s["surface"] >= 0.05, (name, width, s)
            assert s["water"] >= 0.3, (name, width, s)
        assert page.evaluate(OVERLAPS, figure.element_handle()) == 0, (name, width)
        assert errors == []
        page.close()
