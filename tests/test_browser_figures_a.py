"""Issue 24, part A: each figure makes its point where a reader looks. The numbers are read off the
page as Chromium drew it (the readout's text, the kinks drawn, the tick labels), not from Python."""

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

