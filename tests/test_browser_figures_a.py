"""Issue 24, part A: each figure makes its point where a reader looks. The numbers are read off the
page as Chromium drew it (the readout's text, the kinks drawn, the tick labels), not from Python."""

import math
import re

import pytest

from test_browser import app_url, browser, draw, open_page  # noqa: F401  (fixtures and helpers)


def _answer(figure) -> float:
    """The water the lookup's readout prints: "... Answer: 15.71 cups of water for 3.99 cups."."""
    text = figure.locator("[data-says]").inner_text()
    return float(re.search(r"Answer: ([0-9.]+) cups of water", text).group(1))


def test_the_darkness_slider_moves_the_lookup_answer_by_cups_not_hundredths(browser, app_url):
    """Sweep the darkness asked about across the card's grains: the printed answer spans more than
    three cups of water, and it rests on at least three different answers (one per grain)."""
    page, errors = open_page(browser, f"{app_url}/11-self-attention.html", only="card-lookup")
    figure = page.locator("#fig-card-lookup")
    slider = figure.locator("[data-lookup=d]")
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    answers = []
    for i in range(41):
        slider.fill(f"{low + (high - low) * i / 40:.2f}")
        answers.append(_answer(figure))
    print(f"lookup answers from {min(answers):.2f} to {max(answers):.2f} cups of water")
    assert max(answers) - min(answers) > 3
    plateaus = {round(a, 1) for a, b in zip(answers, answers[1:]) if abs(a - b) < 0.05}
    assert len(plateaus) >= 3, answers
    assert errors == []
    page.close()


KINKS_INSIDE = """f => {
  const data = f.querySelector('.plot').data;
  const pots = data.find(t => t.name === 'measured pots').x;
  const [low, high] = [Math.min(...pots), Math.max(...pots)];
  return data.find(t => t.name === 'kinks').x.filter(x => x >= low && x <= high).length;
}"""


def test_the_units_slider_lays_more_kinks_inside_the_measured_cups(browser, app_url):
    """Step the width slider from one unit to the widest: the kinks drawn between the smallest and
    the largest measured pot grow in number at every step, to at least ten."""
    page, errors = open_page(browser, f"{app_url}/05-relu-networks.html", only="relu-kinks")
    figure = page.locator("#fig-relu-kinks")
    slider = figure.locator("[data-units]")
    counts = []
    for i in range(int(slider.get_attribute("max")) + 1):
        slider.fill(str(i))
        counts.append(figure.evaluate(KINKS_INSIDE))
    print("kinks inside the measured cups, by width:", counts)
    assert all(a < b for a, b in zip(counts, counts[1:])), counts
    assert counts[0] <= 1 and counts[-1] >= 10, counts
    assert errors == []
    page.close()


TICK_LABELS = """([plot, axis]) => {
  const ax = plot._fullLayout[axis];
  return {range: ax.range, ticks: [...plot.querySelectorAll(`g.${ax._id}tick text`)]
    .map(t => [t.textContent, t.__data__.x])};
}"""


def _check_log_ticks(plot, axis: str) -> list[float]:
    """Every tick label Chromium drew on a log axis reads as the value where it sits (within 1%), and
    that value lies on the axis's range; the values, for the caller."""
    drawn = plot.page.evaluate(TICK_LABELS, [plot.element_handle(), axis])
    low, high = drawn["range"]  # log10 of the ends
    values = []
    for text, at in drawn["ticks"]:
        value = float(text.replace("−", "-"))
        assert value > 0 and abs(math.log10(value) - at) < math.log10(1.01), (axis, text, 10 ** at)
        assert low - 1e-6 <= at <= high + 1e-6, (axis, text, drawn["range"])
        values.append(value)
    assert len(values) >= 2, (axis, drawn)
    return values


def _between_decades(values: list[float]) -> bool:
    """True when some tick is not a power of ten: the ticks Plotly would label by one digit."""
    return any(abs(math.log10(v) - round(math.log10(v))) > 0.01 for v in values)


@pytest.mark.parametrize("chapter, name, axes", [("09-attention", "study-recovery", ["yaxis2"]),
                                                 ("11-self-attention", "card-length", ["yaxis", "yaxis2"])])
def test_log_axes_in_the_article_label_each_tick_with_its_value(browser, app_url, chapter, name, axes):
    page, errors = open_page(browser, f"{app_url}/{chapter}.html", only=name)
    plot = page.locator(f"#fig-{name} .plot")
    values = [v for axis in axes for v in _check_log_ticks(plot, axis)]
    print(name, "log tick labels:", values)
    assert _between_decades(values), values
    assert errors == []
    page.close()


def test_the_lab_loss_curve_labels_each_log_tick_with_its_value(browser, app_url):
    """A line on white rice falls from about 2 to the noise floor, 0.01: its loss axis spans two
    decades, where Plotly puts ticks at 2 and 5 times each power of ten, and labels them "2" and
    "5" unless told otherwise. Each must read as its value, 0.5 as 0.5."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/lab?model=line&dataset=white", referer=f"{app_url}/index.html")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=60000)
    plot = page.locator("[data-plot=loss]")
    assert page.evaluate("document.querySelector('[data-plot=loss]')._fullLayout.yaxis.type") == "log"
    values = _check_log_ticks(plot, "yaxis")
    print("lab loss log tick labels:", values)
    assert _between_decades([v for v in values if v < 1]), values
    assert errors == []
    page.close()


LABEL_BOXES = """plot => {
  const area = plot.querySelector('.nsewdrag').getBoundingClientRect();
  return {area: [area.left, area.top, area.right, area.bottom],
          labels: [...plot.querySelectorAll('g.textpoint text')].map(t => {
            const b = t.getBoundingClientRect();
            return [t.textContent, b.left, b.top, b.right, b.bottom];
          })};
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_every_parameter_count_in_chapter_8_sits_inside_its_plot(browser, app_url, width):
    """The counts written beside the points of switch-cost, 10,400 the largest, each lie wholly
    inside the plotting area, at a desktop's width and a phone's."""
    page, errors = open_page(browser, f"{app_url}/08-switches.html", width=width, only="switch-cost")
    drawn = page.locator("#fig-switch-cost .plot").evaluate(LABEL_BOXES)
    left, top, right, bottom = drawn["area"]
    assert "10,400" in [text for text, *_ in drawn["labels"]]
    for text, x0, y0, x1, y1 in drawn["labels"]:
        assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (width, text, drawn)
    assert errors == []
    page.close()


def test_the_contents_page_counts_the_chapters_it_lists(browser, app_url):
    from pathlib import Path
    import graintrain.article
    chapters = len(list((Path(graintrain.article.__file__).parent / "chapters").glob("*.md")))
    page, errors = open_page(browser, f"{app_url}/index.html")
    assert f"In {chapters} short chapters" in page.locator(".lede").inner_text()
    assert page.locator("ol.contents li").count() == chapters
    page.close()
