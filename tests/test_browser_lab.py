"""The lab as a reader first meets it, in a real browser against a real server on loopback: the run
it opens with visibly learns, Train is on the first screen, a paused run says so, the start can be
flipped and compared, and each failure preset explains itself before and after its run."""

import json
import time
from urllib.parse import parse_qsl

import pytest

from graintrain.study import RECOVERED

from test_browser import app_url, browser, static_url  # noqa: F401  (fixtures)
from test_browser import open_lab as open_browser_lab

LOSS = "document.querySelector('[data-plot=loss]')._fullData"
FITTED = ("JSON.stringify(document.querySelector('[data-plot=fit]')._fullData"
          ".filter(t => t.mode === 'lines').map(t => t.y))")


def open_lab(browser, url, width=1280, height=800, scheme="light"):  # noqa: F811
    """The lab at a laptop's window (800 px high) unless told otherwise."""
    return open_browser_lab(browser, url, width, height, scheme)


def in_view(page, selector) -> bool:
    """Whether the element lies wholly inside the window, as it stands, without scrolling."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= size["height"] and \
        0 <= box["x"] and box["x"] + box["width"] <= size["width"]


def watch_until_done(page, seconds=30.0) -> list[float]:
    """Poll the fitted lines until the run is done; the times (from the first poll) they changed."""
    began, changes, last = time.monotonic(), [], None
    while time.monotonic() - began < seconds:
        job, drawn = page.evaluate(f"[document.body.dataset.job, {FITTED}]")
        if drawn != last and drawn != "[]":
            changes.append(time.monotonic() - began)
            last = drawn
        if job == "done":
            return changes
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def test_the_opening_run_is_the_registrys_and_visibly_learns(browser, app_url):  # noqa: F811
    page, errors = open_lab(browser, f"{app_url}/lab")
    defaults = page.evaluate("fetch('api/registry').then(r => r.json()).then(r => r.defaults)")
    for name, value in defaults.items():  # the form opens with exactly what the API publishes
        assert page.input_value(f"[name={name}]") == value
    assert in_view(page, "[data-act=train]")
    page.click("[data-act=train]")
    changes = watch_until_done(page)
    losses = page.evaluate(f"{LOSS}[0].y")
    assert losses[0] >= 3 * losses[-1]  # the first drawn loss against the last
    assert changes[-1] - changes[0] >= 3.0  # the fitted lines keep moving on screen for 3 s or more
    # Only steps taken are drawn: within each L-BFGS stage the curve never rises.
    stages = page.evaluate("fetch('api/registry').then(r => r.json()).then(r => r.models.attention.stages)")
    at = 0
    for stage in stages:
        if stage["optimizer"] == "lbfgs":
            part = losses[at:at + stage["steps"]]
            assert all(b <= a for a, b in zip(part, part[1:]))
        at += stage["steps"]
    # Each expert is drawn in the colour of the grain it took, as in the article.
    grains = page.evaluate("JSON.parse(document.getElementById('palette').textContent).grains")
    colours = page.evaluate("document.querySelector('[data-plot=weights]')._fullData.map(t => t.line.color)")
    assert sorted(colours) == sorted(grains[g] for g in ("white", "brown", "franken"))
    assert errors == []
    page.close()


@pytest.mark.parametrize("size", [(1280, 800), (375, 667)])
def test_train_is_on_the_first_screen(browser, app_url, size):  # noqa: F811
    page, _ = open_lab(browser, f"{app_url}/lab", *size, scheme="dark")
    assert in_view(page, "[data-act=train]") and in_view(page, ".status")
    page.mouse.wheel(0, 400)  # still there with the form half scrolled
    page.wait_for_timeout(100)
    assert in_view(page, "[data-act=train]")
    page.close()


def test_a_paused_run_says_so_and_stands_still(browser, app_url):  # noqa: F811
    page, _ = open_lab(browser, f"{app_url}/lab")
    page.click("[data-act=train]")
    page.wait_for_function("Number(document.body.dataset.step) > 20")
    page.click("[data-act=pause]")
    page.wait_for_timeout(600)  # any update already on its way has arrived
    step = page.evaluate("document.body.dataset.step")
    assert page.inner_text(".status").startswith("Paused")
    page.wait_for_timeout(600)
    assert page.evaluate("document.body.dataset.step") == step and page.inner_text(".status").startswith("Paused")
    page.click("[data-act=pause]")  # now reads Resume
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    page.close()


def test_flipping_the_start_trains_again_beside_the_run_before(browser, app_url):  # noqa: F811
    page, errors = open_lab(browser, f"{app_url}/lab?model=attention&dataset=three-grains&init=random")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)  # a link trains at once
    random_start = page.evaluate(f"{LOSS}[0].y")
    page.select_option("select[name=init]", "data")
    assert "init=" not in page.url  # the default start stays out of the link
    page.click("[data-act=train]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    traces = page.evaluate(f"{LOSS}.map(t => [t.name, t.y])")
    assert len(traces) == 2 and "init random" in traces[1][0] and traces[1][1] == random_start
    data_start = traces[0][1]
    assert data_start[0] < random_start[0] / 100  # started from the data, it begins almost done
    assert page.locator("[data-plot=loss] .legend").is_visible() and errors == []
    page.close()


def test_a_preset_says_what_to_look_for_and_then_what_went_wrong(browser, app_url):  # noqa: F811
    page, errors = open_lab(browser, f"{app_url}/lab")
    assert page.locator(".preset-about").is_hidden()
    presets = json.loads(page.evaluate("fetch('api/registry').then(r => r.text())"))["presets"]
    chosen = next(p for p in presets if p["label"] == "A random start that misses a grain")
    page.locator(".presets a", has_text=chosen["label"]).click()  # its link trains at once
    page.wait_for_function("document.body.dataset.ready === 'true'")
    assert page.locator(".preset-about .what").is_visible()
    assert chosen["about"] in page.inner_text(".preset-about .what")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    lesson = page.inner_text(".preset-about .lesson")
    assert lesson.startswith("What went wrong:") and chosen["lesson"] in lesson
    measured = float(lesson.rsplit(" is ", 1)[1].rstrip("."))
    assert measured > RECOVERED  # the expert error the sentence reports, beyond the recovered mark
    page.select_option("select[name=init]", "data")  # no longer the preset: its words go
    assert page.locator(".preset-about").is_hidden() and errors == []
    page.close()


def test_the_static_lab_asks_nothing_it_cannot_have_and_its_form_matches_the_replay(browser, static_url):  # noqa: F811
    page = browser.new_page()
    errors: list[str] = []  # a 404 shows in the console as "Failed to load resource"
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{static_url}/lab.html")
    page.wait_for_function("document.body.dataset.ready === 'replays'")
    runs = page.evaluate("fetch('api/registry').then(r => r.json()).then(r => r.replays)")
    for i in (0, len(runs) - 1):  # the form shows the chosen run's settings, and only those
        page.select_option("select[name=replay]", str(i))
        expected = dict(parse_qsl(runs[i]["query"]))
        assert page.input_value("select[name=model]") == expected["model"]
        assert page.input_value("select[name=dataset]") == expected["dataset"]
        assert page.input_value("select[name=init]") == expected.get("init", "")
        assert page.input_value("input[name=seed]") == expected.get("seed", "")
        assert page.input_value("select[name=pace]") == "fast"
    page.click("[data-act=replay]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=20000)
    assert errors == []
    page.close()


def test_a_preview_still_on_its_way_does_not_cover_a_finished_run(browser, app_url):  # noqa: F811
    page, errors = open_lab(browser, f"{app_url}/lab?model=attention&dataset=three-grains&init=random&seed=4")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    # The preview's answer is held back until the run has ended, as on a busy server.
    page.route("**/api/preview", lambda route: (time.sleep(2.0), route.continue_()))
    page.select_option("select[name=init]", "data")  # asks for a preview a moment later...
    page.click("[data-act=train]")  # ...but Train comes first, and a fast run ends before it answers
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    page.wait_for_timeout(3000)
    lines = page.evaluate("document.querySelector('[data-plot=fit]')._fullData.filter(t => t.mode === 'lines').length")
    assert lines == 3 and errors == []
    page.close()


def test_a_permalink_from_another_site_fills_the_form_and_waits(browser, app_url):  # noqa: F811
    """A link on another site (or a frame of it) started training here at once. Followed from
    elsewhere it now only fills the form; the reader starts the run."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{app_url}/lab?model=line&dataset=white&steps=50", referer="http://evil.example/page.html")
    page.wait_for_function("document.body.dataset.ready === 'true'")
    time.sleep(1)
    assert page.evaluate("document.body.dataset.job") in (None, "")  # nothing started
    assert page.locator("select[name=model]").input_value() == "line"
    assert "press Train" in page.locator(".status").inner_text()
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=60000)
    assert errors == []
    page.close()
