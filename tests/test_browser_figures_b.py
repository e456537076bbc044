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


# Each switchboard panel as the page drew it: its title, the z of its samples, and the slopes of
# its true line and of the expert drawn there. A title belongs to the panel it is centred over.
PANELS = """plot => {
  const full = plot._fullLayout;
  const slope = t => (t.y[t.y.length - 1] - t.y[0]) / (t.x[t.x.length - 1] - t.x[0]);
  return Object.keys(full).filter(k => /^xaxis\\d*$/.test(k)).map(k => {
    const id = 'x' + k.slice(5), xa = full[k], ya = full['yaxis' + k.slice(5)];
    const on = name => plot._fullData.find(t => t.xaxis === id && t.name === name);
    const title = (full.annotations || []).find(a => Math.abs(a.x - (xa.domain[0] + xa.domain[1]) / 2) < 0.02
                                                && Math.abs(a.y - ya.domain[1]) < 0.08);
    return {title: title ? title.text : null, z: on('samples').customdata,
            truth: slope(on('true line')), expert: slope(on("attention's expert"))};
  });
}"""


def test_each_switchboard_panel_names_its_z_and_shows_the_expert_on_its_line(browser, app_url):
    """At a desktop's width and a phone's: at least two panels; each title names a stretch of z,
    every sample drawn in the panel has its z inside that stretch (to the title's last digit), the
    stretches do not overlap, and the expert line drawn there has the true line's slope within 0.05.
    No two titles overlap."""
    for width, scheme in ((1280, "light"), (375, "dark")):
        page, errors = open_page(browser, f"{app_url}/09-attention.html", width=width, scheme=scheme,
                                 only="switchboard")
        figure = page.locator("#fig-switchboard")
        panels = page.evaluate(PANELS, figure.locator(".plot").element_handle())
        assert len(panels) >= 2, panels
        stretches = []
        for p in panels:
            m = re.match(r"z (-?[0-9.]+) to (-?[0-9.]+)", p["title"] or "")
            assert m, p["title"]
            low, high = float(m.group(1)), float(m.group(2))
            digit = 10 ** -len(m.group(1).split(".")[-1]) if "." in m.group(1) else 1
            assert p["z"] and all(low - digit <= z <= high + digit for z in p["z"]), (p["title"], min(p["z"]), max(p["z"]))
            assert abs(p["expert"] - p["truth"]) <= 0.05, p
            stretches.append((low, high))
            print(width, p["title"], f"{len(p['z'])} samples, slope {p['expert']:.3f} against {p['truth']:.3f}")
        stretches.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(stretches, stretches[1:])), stretches
        assert page.evaluate(OVERLAPS, figure.element_handle()) == 0, width
        assert errors == []
        page.close()


def test_blend_vs_compete_trains_both_recipes_on_one_switchboard_and_replays_both(browser, app_url):
    """Both top panels draw the same true lines (one dataset, one seed). The replay's frames move
    traces in all four panels; after Reset each side's lines or gates lie more than 0.1 from the
    trained ones somewhere, and after the last frame they are the trained ones again."""
    page, errors = open_page(browser, f"{app_url}/09-attention.html", only="blend-vs-compete")
    figure = page.locator("#fig-blend-vs-compete")
    plot = "document.querySelector('#fig-blend-vs-compete .plot')"
    truth = page.evaluate(f"""[...{plot}.data.entries()].filter(([, t]) => t.name === 'true lines')
                              .map(([, t]) => [t.xaxis || 'x', t.y])""")
    left = [y for axis, y in truth if axis == "x"]
    right = [y for axis, y in truth if axis == "x2"]
    assert left and left == right, (len(left), len(right))
    spec = page.evaluate("JSON.parse(document.querySelector('#fig-blend-vs-compete script.fig-data').textContent)")
    axes = {str(i): t.get("xaxis", "x") for i, t in enumerate(spec["plot"]["data"])}
    frames = spec["frames"]
    moved = {axes[i] for f in frames for i in f["traces"]}
    assert len(frames) >= 10 and {"x", "x2", "x3", "x4"} <= moved, (len(frames), moved)
    # A side: its expert lines (top) and their gates (bottom). graintrain's start is read from the
    # data, so its lines barely move; its gates still sharpen.
    sides = {"blended": ("x", "x3"), "graintrain": ("x2", "x4")}
    moving = {side: sorted({int(i) for f in frames for i in f["traces"] if axes[i] in pair})
              for side, pair in sides.items()}
    drawn = lambda: {side: [page.evaluate(f"{plot}.data[{i}].y") for i in ids] for side, ids in moving.items()}
    trained = drawn()
    figure.locator("[data-act=reset]").click()
    assert figure.get_attribute("data-frame") == "0"
    start = drawn()
    print("first frame steps", frames[0]["steps"], "last", frames[-1]["steps"])
    for side in sides:
        change = max(abs(a - b) for s, t in zip(start[side], trained[side]) for a, b in zip(s, t))
        print(side, f"largest change from the first frame to the trained plot {change:.3f}")
        assert change > 0.1, side
    figure.locator("[data-act=scrub]").fill(str(len(frames) - 1))  # the scrubber's far end
    assert figure.get_attribute("data-frame") == str(len(frames) - 1)
    assert drawn() == trained
    assert errors == []
    page.close()
