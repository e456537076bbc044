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
