"""The article at a phone's width, measured in the browser (issue 24, "phones and projectors"):
nothing a reader must read is covered by something else, nothing is cut off at the right edge,
and the lines and dots that carry a figure's meaning stand out from the page in both themes.

Boxes and colours are read from the page as Chromium drew it, so these tests judge what a reader
sees, not what the code meant to draw.
"""

import re

import pytest

from test_browser import app_url, browser, draw_every_figure, open_page, screenshot  # noqa: F401  fixtures

PHONE = 375

# Every pair of text boxes in one plot that overlap by more than a pixel each way: its title, axis
# titles, legend, annotations (subplot titles among them), mode bar and tick labels (which are
# only compared with the others: an axis spaces its own). An element that is not shown has no box
# (a hidden mode bar), so it cannot cover anything.
OVERLAPS = """() => {
  const SELECTOR = 'text.gtitle, text[class$="title"], g.legend, .annotation-text, .modebar, g[class$="tick"] > text';
  const tick = el => el.parentElement.getAttribute('class')?.endsWith('tick');
  const found = [];
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const name = plot.closest('figure')?.dataset.figure || plot.dataset.plot;
    const boxes = [...plot.querySelectorAll(SELECTOR)].map(el => [el, el.getBoundingClientRect()])
      .filter(([el, r]) => r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden');
    boxes.forEach(([a, ra], i) => boxes.slice(i + 1).forEach(([b, rb]) => {
      if (a.contains(b) || b.contains(a)) return;  // a legend's own title lies inside the legend
      if (tick(a) && tick(b)) return;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      const label = el => `${el.getAttribute('class') || 'tick'} "${el.textContent.slice(0, 30)}"`;
      if (w > 1 && h > 1) found.push(`${name}: ${label(a)} over ${label(b)}`);
    }));
  }
  return found;
}"""

# Everything whose box reaches past the right edge of the viewport, except what lies inside a box
# that scrolls sideways, stays on the screen and shows that it scrolls (the scroll shadows that
# style.css draws as gradients). A plot's own insides are judged by the plot's box.
PAST_THE_EDGE = """() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const scroller = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (/auto|scroll/.test(getComputedStyle(a).overflowX)) return a;
    }
    return null;
  };
  const hinted = box => box.getBoundingClientRect().right <= edge &&
    getComputedStyle(box).backgroundImage.includes('gradient');
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= edge) continue;
    const box = scroller(el);
    if (box && hinted(box)) continue;
    found.push(`${el.tagName.toLowerCase()}.${el.getAttribute('class') || ''} ` +
               `right=${Math.round(r.right)} "${(el.textContent || '').trim().slice(0, 40)}"`);
  }
  return found.slice(0, 10);
}"""


@pytest.mark.parametrize("width, scheme", [(PHONE, "dark"), (1280, "light")])
def test_every_page_has_nothing_covered_or_cut_off(browser, app_url, site, width, scheme):  # noqa: F811
    """Each chapter, the contents and the lab (with its data drawn, then once trained), on a phone
    in the dark theme and on a laptop in the light one: every figure drawn, then no two text boxes
    of a plot overlap and nothing sticks out to the right unless it can be scrolled to, with a
    hint that it can."""
    pages = ["index.html", *(c.page for c in site.chapters), "lab.html?dataset=switchboard"]
    problems = {}
    for name in pages:
        page, errors = open_page(browser, f"{app_url}/{name}", width=width, scheme=scheme)
        found = page.evaluate(OVERLAPS) + page.evaluate(PAST_THE_EDGE)
        if name.startswith("lab"):  # and again with a run's loss curve, weights and legends drawn
            page.select_option("select[name=pace]", "fast")
            page.click("[data-act=train]")
            page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
            page.wait_for_timeout(300)  # the last update is drawn at the next frame
            found += page.evaluate(OVERLAPS) + page.evaluate(PAST_THE_EDGE)
        if found:
            problems[name] = found
        assert errors == [], (name, errors)
        screenshot(page, f"layout-{width}-{scheme}-{name.split('.')[0]}")
        page.close()
    assert not problems, "\n".join(f"{name}: {found}" for name, found in problems.items())


# Each drawn mark of the named traces (its line, or its points where it has no line) and each
# point of a recipe card (a shape), with the colour and opacity the browser paints it in.
PAINTED = """names => {
  const marks = [];
  for (const g of document.querySelectorAll('.js-plotly-plot g.trace')) {
    const trace = g.__data__?.[0]?.trace;
    if (!trace || !names.includes(trace.name)) continue;
    const group = parseFloat(getComputedStyle(g).opacity);
    for (const path of g.querySelectorAll('path.js-line, path.point')) {
      const s = getComputedStyle(path);
      const line = path.classList.contains('js-line');
      marks.push({name: trace.name, colour: line ? s.stroke : s.fill,
                  alpha: group * parseFloat(line ? s.strokeOpacity : s.fillOpacity)});
    }
  }
  for (const path of document.querySelectorAll('.js-plotly-plot .shapelayer path')) {
    const s = getComputedStyle(path);
    marks.push({name: 'card point', colour: s.fill, alpha: parseFloat(s.fillOpacity) * parseFloat(s.opacity)});
  }
  return {marks, page: getComputedStyle(document.body).backgroundColor};
}"""


def _rgb(css: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", css)[:3])


def _contrast(a, b) -> float:
    """WCAG 2.1's contrast ratio of two sRGB colours."""
    def luminance(rgb):
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pale_lines_and_card_points_stand_out_from_the_page(browser, app_url, scheme):  # noqa: F811
    """The grey true lines of chapter 9, the wide pale line of the trained layer and the points of
    the recipe card in chapter 11 reach 3:1 against the page (WCAG's minimum for graphics), as
    painted: each colour blended with the page by its opacity, then compared with the page."""
    wanted = {"09-attention.html": ("blend-vs-compete", ["true lines"]),
              "11-self-attention.html": ("recipe-card", ["the layer"])}
    seen = {}
    for name, (figure, traces) in wanted.items():
        page, errors = open_page(browser, f"{app_url}/{name}", width=PHONE, scheme=scheme, only=figure)
        painted = page.evaluate(PAINTED, traces)
        background = _rgb(painted["page"])
        for mark in painted["marks"]:
            if mark["name"] == "card point" and mark["alpha"] < 0.5:
                continue  # a point the layer does not read is faded on purpose
            shown = [mark["alpha"] * c + (1 - mark["alpha"]) * p for c, p in zip(_rgb(mark["colour"]), background)]
            seen.setdefault(mark["name"], []).append(round(_contrast(shown, background), 2))
        assert errors == [], (name, errors)
        page.close()
    assert set(seen) == {"true lines", "the layer", "card point"}, seen
    assert {name: min(ratios) for name, ratios in seen.items() if min(ratios) < 3} == {}


def test_every_palette_colour_stands_out_from_the_light_page():
    """The grains' and the experts' colours are drawn solid on the light page as they are, so each
    must reach 3:1 against it (the expert orange and cyan and the half-bran gold stood near 2.3)."""
    from pathlib import Path
    from graintrain.palette import EXPERT_COLOURS, GRAIN_COLOURS
    css = (Path(__file__).parents[1] / "src/graintrain/article/static/style.css").read_text()
    paper = re.search(r"--paper:\s*#([0-9a-f]{6})", css).group(1)
    rgb = lambda text: tuple(int(text.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))  # noqa: E731
    ratios = {c: round(_contrast(rgb(c), rgb(paper)), 2) for c in [*GRAIN_COLOURS.values(), *EXPERT_COLOURS]}
    assert {c: r for c, r in ratios.items() if r < 3} == {}
