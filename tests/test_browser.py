"""The article in a real browser: Debian's Chromium driven by Playwright, against a real server on
loopback and against the static export served by ``python -m http.server``.

With GRAINTRAIN_SCREENSHOTS=1 (``make screenshots``), the pages are also kept as pictures in
artifacts/screenshots (ignored by git).
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
import uvicorn

from graintrain.web.main import create_app
from graintrain.web.settings import Settings

from conftest import GOOD_CSV, POOL, free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Keep a picture of the page as artifacts/screenshots/NAME.png, when GRAINTRAIN_SCREENSHOTS
    is set. Pictures check nothing, and drawing whole pages took 12 s of the chapter passes."""
    if os.environ.get("GRAINTRAIN_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
def app_url(site, site_cache):
    """The FastAPI app under uvicorn on a free loopback port, for the whole module."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(cache_dir=site_cache.folder), site, pool=POOL),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(f"http://127.0.0.1:{port}/index.html")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def static_url(site, tmp_path_factory):
    """The static export, served by Python's own static file server: no graintrain behind it."""
    out = tmp_path_factory.mktemp("static-site")
    site.write(out)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1",
                               "-d", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/index.html")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


class Browser:
    """Pages in one Chromium profile. Playwright's own contexts are incognito, where Chromium keeps
    no code cache, so every page compiled plotly.js again: 1.1 s of each page's load here. In a
    profile on disk, V8 keeps the compiled code from the second load on, and a page loads in 0.3 s.
    The pages share cookies and storage, which the front end does not use (its state is the URL)."""

    def __init__(self, context):
        self.context = context

    def new_page(self, viewport: dict | None = None, color_scheme: str = "light"):
        page = self.context.new_page()
        page.set_viewport_size(viewport or {"width": 1280, "height": 720})  # Playwright's default
        page.emulate_media(color_scheme=color_scheme)
        return page


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        # The pages' Content-Security-Policy forbids eval, which Playwright's wait_for_function
        # polls with: these test pages set it aside (test_the_pages_work_under_their_own_policy
        # checks the pages with it in force).
        context = p.chromium.launch_persistent_context(tmp_path_factory.mktemp("chromium-profile"),
                                                       executable_path=CHROMIUM, args=FLAGS, bypass_csp=True)
        yield Browser(context)
        context.close()


@pytest.fixture(params=["server", "static"])
def base(request, app_url, static_url):
    return app_url if request.param == "server" else static_url


def open_page(browser, url: str, width: int = 1280, scheme: str = "light", only: str | None = None):
    """A page with its console errors collected, once it is drawn: a chapter's every figure (or
    only the figure named ``only``, for a test of that figure: the chapter passes draw them all),
    or the lab's preview of its data."""
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    if "/lab" in url:
        page.wait_for_function("document.body.dataset.preview === '500'")
    elif only:
        draw(page.locator(f"#fig-{only}"))
        page.evaluate("window.scrollTo(0, 0)")
    else:
        draw_every_figure(page)
    return page, errors


def draw_every_figure(page) -> None:
    """Scroll to each figure in turn, as a reader would, and wait until it is drawn (figures are
    built when they come near the screen)."""
    for figure in page.locator("figure.gt-figure").all():
        draw(figure)
    page.wait_for_function("[...document.querySelectorAll('figure.gt-figure')]"
                           ".every(f => f.dataset.ready === 'true')", timeout=20000)
    page.evaluate("window.scrollTo(0, 0)")


def draw(figure) -> None:
    """Scroll to one figure and wait until it is drawn and ready."""
    figure.scroll_into_view_if_needed()
    figure.locator(".plot.js-plotly-plot").wait_for(timeout=20000)
    figure.page.wait_for_function("f => f.dataset.ready === 'true'", arg=figure.element_handle(), timeout=20000)


def test_every_chapter_draws_every_figure_without_errors(browser, base, site, request):
    """Every chapter, every figure drawn with data and no console error, in one pass per copy of
    the article: the static copy at a desktop's width in the light theme, and the server at a
    phone's width in the dark theme. On the phone nothing may be wider than the screen, no plot
    wider than its box or with overlapping titles, the contents are folded, and every plot takes
    the page's colours (no white grid on a dark page). Both copies serve the same pages, so each
    layout is checked once rather than on both."""
    phone = request.node.callspec.params["base"] == "server"
    width, scheme = (375, "dark") if phone else (1280, "light")
    chapters = [c.page for c in site.chapters]
    for name in (["index.html", *chapters, "lab.html?dataset=switchboard"] if phone else chapters):
        page, errors = open_page(browser, f"{base}/{name}", width=width, scheme=scheme)
        if name in chapters:
            drawn = page.evaluate("""[...document.querySelectorAll('figure.gt-figure .plot')].map(p =>
                p._fullData.reduce((n, t) => n + (t.z ? t.z.flat().length : (t.y ? t.y.length : 0)), 0))""")
            assert drawn and all(n > 0 for n in drawn), (name, drawn)
        assert errors == [], (name, errors)
        if phone:
            if name in chapters:
                assert page.evaluate(CRAMPED) == [], name
            if name != "index.html":  # every page with plots has grids, all in the dark theme's colour
                assert page.evaluate(DARK_GRID), name
            if not name.startswith("lab"):
                assert page.locator("nav.toc details").get_attribute("open") is None, name  # folded
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            assert _dark_grids(page) == set(), name
        screenshot(page, f"{'server' if phone else 'static'}-{scheme}-{width}-{name.split('.')[0]}")
        page.close()


DARK_GRID = """[...document.querySelectorAll('.js-plotly-plot')].flatMap(p =>
    Object.entries(p._fullLayout).flatMap(([k, a]) => /^[xy]axis\\d*$/.test(k) ? (a.visible ? [a.gridcolor] : [])
      : /^scene\\d*$/.test(k) ? [a.xaxis.gridcolor, a.yaxis.gridcolor, a.zaxis.gridcolor] : []))"""


def _dark_grids(page) -> set:
    """The grid colours of every plot on the page that are not the dark theme's."""
    return {g for g in page.evaluate(DARK_GRID) if g.replace(" ", "") not in ("#3a3d44", "rgb(58,61,68)")}


# For each figure: plots wider than their box, and pairs of subplot titles whose boxes overlap.
CRAMPED = """[...document.querySelectorAll('figure.gt-figure')].map(f => {
  const box = f.querySelector('.plot').getBoundingClientRect();
  const svg = f.querySelector('.main-svg').getBoundingClientRect();
  const titles = [...f.querySelectorAll('.annotation-text')].map(t => t.getBoundingClientRect());
  const overlaps = titles.flatMap((a, i) => titles.slice(i + 1).filter(b =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)).length;
  return {figure: f.dataset.figure, wider: svg.width > box.width + 1, overlaps};
}).filter(r => r.wider || r.overlaps)"""


def test_a_3d_figure_rotates_when_dragged(browser, base):
    page, _ = open_page(browser, f"{base}/04-the-darkness-meter.html", only="plane-3d")
    plot = page.locator("#fig-plane-3d .plot")
    plot.scroll_into_view_if_needed()
    eye = "JSON.stringify(document.querySelector('#fig-plane-3d .plot')._fullLayout.scene._scene.getCamera().eye)"
    before = page.evaluate(eye)
    box = plot.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 40, steps=8)
    page.mouse.up()
    assert page.evaluate(eye) != before
    page.close()


def test_a_replay_steps_through_training(browser, base):
    page, _ = open_page(browser, f"{base}/01-rice-to-water.html", only="white-line")
    figure = page.locator("#fig-white-line")
    line = "JSON.stringify(document.querySelector('#fig-white-line .plot').data[1].y)"
    trained = page.evaluate(line)
    equation = figure.locator(".stats dd").first.inner_text()
    figure.locator("[data-act=reset]").click()
    assert figure.get_attribute("data-frame") == "0"
    assert figure.locator(".stats dd").first.inner_text() != equation  # the numbers follow the frame
    start = page.evaluate(line)
    figure.locator("[data-act=step]").click()
    assert figure.get_attribute("data-frame") == "1" and page.evaluate(line) != start
    figure.locator("[data-act=play]").focus()  # by keyboard: the buttons are real buttons
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#fig-white-line').dataset.frame === '20'",
                           timeout=10000)
    assert page.evaluate(line) == trained
    assert "step 200" in figure.locator(".frame").inner_text()
    page.close()


def test_refresher_sliders_give_the_mse_and_live_in_the_url(browser, base):
    page, _ = open_page(browser, f"{base}/01-rice-to-water.html", only="line-refresher")
    figure = page.locator("#fig-line-refresher")
    w, b = figure.locator("[data-param=w]"), figure.locator("[data-param=b]")
    w.focus()
    for _ in range(20):  # keyboard steps of 0.05: slope 1.00 -> 2.00
        page.keyboard.press("ArrowRight")
    b.fill("0")
    b.dispatch_event("input")
    mse = float(figure.get_attribute("data-mse"))
    assert mse < 0.02  # the line y = 2x sits on the white rice
    assert "line-refresher.w=2" in page.url
    again, _ = open_page(browser, page.url, only="line-refresher")
    assert float(again.locator("#fig-line-refresher").get_attribute("data-mse")) == pytest.approx(mse)
    page.close()
    again.close()


def test_relu_switch_passes_only_the_believed_grain(browser, base):
    page, _ = open_page(browser, f"{base}/08-switches.html", only="relu-switch")
    figure = page.locator("#fig-relu-switch")
    for k, value in enumerate(["0", "1", "0"]):
        slider = figure.locator(f"[data-p='{k}']")
        slider.fill(value)
        slider.dispatch_event("input")
    figure.locator("[data-cups]").select_option("4")
    passed = page.evaluate("JSON.parse(document.querySelector('#fig-relu-switch').dataset.passed)")
    assert passed == [0, 12, 0]  # brown rice: 3 cups per cup, the other units held off
    assert "brown rice" in figure.locator("[data-passing]").inner_text()
    page.close()


def test_the_attention_diagram_follows_the_darkness_slider(browser, base):
    import re
    page, errors = open_page(browser, f"{base}/09-attention.html?attention-network.x=4&attention-network.d=0.5",
                              only="attention-network")
    figure = page.locator("#fig-attention-network")
    water = lambda: float(re.search(r"water ([-\d.]+) cups", figure.locator("[data-says]").inner_text()).group(1))
    assert water() == pytest.approx(12.0, abs=0.25)  # brown rice: 3 cups of water per cup
    figure.locator("[data-net=darkness]").fill("0")
    assert water() == pytest.approx(8.0, abs=0.25)  # white rice: 2 per cup
    widths = page.evaluate("document.querySelector('#fig-attention-network .plot').data"
                           ".filter(t => t.line && t.line.dash === 'dot').map(t => t.line.width)")
    assert max(widths) > 6 and min(widths) < 1.5  # one gate wide open, the others nearly shut
    assert "attention-network.d=0" in page.url and errors == []
    page.close()


def test_the_units_slider_redraws_the_network_and_its_kinks(browser, app_url):
    page, errors = open_page(browser, f"{app_url}/05-relu-networks.html", only="relu-kinks")
    figure = page.locator("#fig-relu-kinks")
    curve = "JSON.stringify(document.querySelector('#fig-relu-kinks .plot').data.map(t => t.y))"
    wide = page.evaluate(curve)
    assert figure.get_attribute("data-units") == "100"  # the widest network first
    figure.locator("[data-units]").fill("0")  # one unit
    assert figure.get_attribute("data-units") == "1" and page.evaluate(curve) != wide
    assert "relu-kinks.units=1" in page.url and errors == []
    page.close()


def test_dark_mode_follows_the_system_setting(browser, base):
    page = browser.new_page(color_scheme="dark")
    page.goto(f"{base}/04-the-darkness-meter.html")
    page.wait_for_function("document.querySelector('figure.gt-figure').dataset.ready === 'true'")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 23, 26)"
    font = page.evaluate("document.querySelector('.plot')._fullLayout.font.color")
    assert font.replace(" ", "") in ("#e8e6e1", "rgb(232,230,225)")
    screenshot(page, "dark-04", full_page=False)
    page.close()


# The lab ----------------------------------------------------------------------------------------

def open_lab(browser, url: str, width: int = 1280, height: int = 1000, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # As a reader arrives from one of the article's pages: a permalink from elsewhere waits for Train.
    page.goto(url, referer=f"{url.split('/lab')[0]}/index.html")
    page.wait_for_function("document.body.dataset.ready === 'true'")
    return page, errors


def test_lab_trains_and_streams_updates_and_a_permalink_repeats_the_run(browser, app_url):
    page, errors = open_lab(browser, f"{app_url}/lab")
    page.select_option("select[name=model]", "attention")
    page.select_option("select[name=dataset]", "switchboard")
    page.select_option("select[name=optimizer]", "adam")
    page.select_option("select[name=objective]", "mixture")
    page.fill("input[name=steps]", "2000")
    page.fill("input[name=seed]", "3")
    page.select_option("select[name=pace]", "fast")  # the lab opens at the watch pace
    page.click("[data-act=train]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    updates = int(page.evaluate("document.body.dataset.updates"))
    assert updates >= 5  # queued, started, several progress updates, done
    assert page.evaluate("document.querySelector('[data-plot=loss]')._fullData[0].x.length") == 2000
    assert page.evaluate("document.querySelector('[data-plot=weights]')._fullData.length") == 5
    result = page.evaluate("document.body.dataset.result")
    assert "Done in" in page.inner_text(".status") and errors == []
    link = page.url
    assert "seed=3" in link and "steps=2000" in link and "objective=mixture" in link
    for selector, ending in (("[data-image=png]", ".png"), ("[data-image=svg]", ".svg"),
                             ("[data-export=pt]", ".pt"), ("[data-export=json]", ".json")):
        with page.expect_download() as download:
            page.click(selector)
        assert download.value.suggested_filename.endswith(ending)
        assert Path(download.value.path()).stat().st_size > 100
    screenshot(page, "lab-trained")
    again, _ = open_lab(browser, link)  # a permalink trains at once
    assert again.input_value("input[name=steps]") == "2000"
    again.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    assert again.evaluate("document.body.dataset.result") == result
    page.close()
    again.close()


def test_lab_stop_ends_the_run(browser, app_url):
    page, _ = open_lab(browser, f"{app_url}/lab.html?model=mlp&dataset=switchboard&hidden=64,64"
                                "&optimizer=adam&steps=20000&restarts=2")  # trains at once
    page.wait_for_function("Number(document.body.dataset.step || 0) > 0", timeout=20000)
    assert "Start 1 of 2, step" in page.inner_text(".status") and "of 20000" in page.inner_text(".status")
    page.click("[data-act=stop]")
    page.wait_for_function("document.body.dataset.job === 'ended'", timeout=5000)
    assert page.is_visible("[data-export=pt]")  # the model as it stood can still be saved
    assert "Stopped: stopped by the reader" in page.inner_text(".status")
    assert page.is_enabled("[data-act=train]")
    page.close()


def test_lab_uploads_a_good_csv_and_refuses_a_bad_one(browser, app_url, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD_CSV)
    bad.write_text("cups,darkness,water\n1,0,2\n2,0.5,six\n")
    page, _ = open_lab(browser, f"{app_url}/lab.html?model=sigma-pi&dataset=upload")
    page.set_input_files("input[name=file]", str(bad))
    page.click("[data-act=train]")
    page.wait_for_selector(".error:not([hidden])")
    assert "line 3, column water: 'six' is not a number" in page.inner_text(".error")
    page.set_input_files("input[name=file]", str(good))
    page.click("[data-act=train]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=20000)
    assert float(page.evaluate("document.body.dataset.result")) < 1e-6
    page.set_input_files("input[name=file]", str(bad))  # a refused run leaves nothing of the last one
    page.click("[data-act=train]")
    page.wait_for_function("document.body.dataset.job === 'refused'")
    assert "Not started" in page.inner_text(".status") and "Done" not in page.inner_text(".status")
    assert page.evaluate("document.querySelector('[data-plot=fit]').data === undefined")
    assert page.is_hidden(".exports") and page.evaluate("document.body.dataset.result") is None
    page.close()


def test_lab_shows_the_data_before_training_and_offers_presets(browser, app_url):
    page, errors = open_lab(browser, f"{app_url}/lab.html")
    page.select_option("select[name=dataset]", "switchboard")
    page.wait_for_function("document.body.dataset.preview === '500'")  # the switchboard's 500 points
    assert page.evaluate("document.querySelector('[data-plot=fit]').data.length") == 5  # one trace per line
    assert "random lines" in page.inner_text("[data-about=dataset]")
    assert page.evaluate("document.body.dataset.job") is None  # nothing trained yet
    assert "dataset=switchboard" in page.url and "lines" not in page.url
    page.select_option("select[name=dataset]", "white")
    assert "selector_range" not in page.url and "regions" not in page.url  # settings that do not apply
    presets = page.locator(".presets a")
    assert presets.count() >= 4
    presets.filter(has_text="dies").click()  # opens the run's link, which trains at once
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    assert "hidden=2" in page.url and errors == []
    page.close()


def test_static_lab_explains_it_needs_a_server_and_replays_a_figures_run(browser, static_url, site, site_cache):
    from graintrain.article.figures import FIGURES
    from graintrain.metrics import evaluate
    page = browser.new_page()
    page.goto(f"{static_url}/lab.html")
    page.wait_for_function("document.body.dataset.ready === 'replays'")
    assert page.is_visible(".lab-offline") and page.is_disabled("[data-act=train]")
    options = page.locator("select[name=replay] option").count()
    assert options == len({f.lab for f in site.figures.values() if f.lab})  # each figure's run, once
    # A chapter's link to the lab plays that figure's run, step by step, to the cached model's score.
    link = site.figures["attention-fit"].lab
    page.goto(f"{static_url}/lab.html?{link}")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=20000)
    trained = site_cache.get(FIGURES["attention-fit"].runs[0])
    assert float(page.evaluate("document.body.dataset.result")) == pytest.approx(
        evaluate(trained.model, trained.data)["train_mse"], rel=1e-9)
    assert int(page.evaluate("document.body.dataset.updates")) >= 10
    assert page.is_disabled("[data-act=train]") and page.locator(".exports").is_hidden()
    page.close()


def test_lab_dataset_options_come_from_the_link_and_train(browser, app_url):
    page, errors = open_lab(browser, f"{app_url}/lab?model=attention&dataset=switchboard&lines=3"
                                     "&order=shuffled&selector_range=-40,-30")
    assert page.input_value("select[name=order]") == "shuffled"
    assert page.input_value("input[name=selector_range]") == "-40,-30"
    assert page.is_visible("input[name=selector_range]") and not page.is_visible("input[name=darkness]")
    page.click("[data-act=train]")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=30000)
    assert page.evaluate("document.querySelector('[data-plot=weights]')._fullData.length") == 3
    low = page.evaluate("Math.min(...document.querySelector('[data-plot=weights]')._fullData[0].x)")
    assert -40 <= low < -39  # the weights are drawn over the selector's own range
    page.select_option("select[name=dataset]", "three-grains")
    assert page.is_visible("input[name=darkness]") and not page.is_visible("select[name=order]")
    assert errors == []
    page.close()


def test_lab_shows_photos_and_the_gates_a_camera_gives_them(browser, app_url):
    page, errors = open_lab(browser, f"{app_url}/lab?model=cross-attention&dataset=grain-photos")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=60000)
    assert page.locator("[data-strip=train] canvas").count() == 12 and not page.is_visible("input[name=three_d]")
    assert page.locator("[data-strip=held_out] canvas").count() == 12
    gates = page.evaluate("document.querySelector('[data-plot=weights]').data.map(t => t.y)")  # (K, 12)
    labels = page.evaluate("[...document.querySelectorAll('[data-strip=held_out] figcaption')].map(f => f.textContent)")
    winners = [max(range(len(gates)), key=lambda k: gates[k][i]) for i in range(12)]
    for grain in set(labels):  # every photo of a grain gated to the same expert, a different one per grain
        assert len({w for w, label in zip(winners, labels) if label == grain}) == 1, (grain, winners)
    assert len(set(winners)) == 3 and errors == []
    page.close()


def _card_on_page(page, name: str):
    """The recipe card as the page now holds it: each point's anchor (cups, water)."""
    return page.evaluate(f"document.querySelector('#fig-{name} .plot')._fullLayout.shapes"
                         ".map(s => [s.xanchor, s.yanchor])")


def test_the_recipe_card_runs_the_trained_layer_in_the_browser(browser, base, site_cache):
    """The page's three answers equal torch's (the layer, one GD step at η*, least squares) on the
    card the page shows, before and after a point is dragged; the drag lands in the URL; and Reset
    on the replay answers with the weights of training's first step."""
    import json
    from graintrain.article.figures.incontext import CARD
    from graintrain.cards import best_step
    from graintrain.train import snapshot_model
    trained = site_cache.get(CARD)
    eta = best_step(trained.data.train)
    page, errors = open_page(browser, f"{base}/11-self-attention.html", only="recipe-card")
    figure = page.locator("#fig-recipe-card")
    xq = float(figure.locator("[data-card=xq]").input_value())

    def torch_answers(model) -> list[float]:
        pairs = torch.tensor(_card_on_page(page, "recipe-card"))  # (m, 2)
        card = torch.cat([pairs, torch.tensor([[xq, 0.0]])]).unsqueeze(0)  # (1, m + 1, 2)
        x, y = pairs.unbind(-1)
        with torch.no_grad():
            layer = model(torch.tensor([xq]), card).item()
        return [layer, eta * (x * y).mean().item() * xq, ((x * y).sum() / (x * x).sum()).item() * xq]

    said = lambda: json.loads(figure.get_attribute("data-answers"))[1:]  # noqa: E731
    assert said() == pytest.approx(torch_answers(trained.model), abs=1e-4)
    figure.scroll_into_view_if_needed()
    at = page.evaluate("""() => { const el = document.querySelector('#fig-recipe-card .plot');
        const s = el._fullLayout.shapes[0], xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        const r = el.getBoundingClientRect();
        return [r.left + xa._offset + xa.d2p(s.xanchor), r.top + ya._offset + ya.d2p(s.yanchor)]; }""")
    moved_from = _card_on_page(page, "recipe-card")[0]
    before = figure.get_attribute("data-answers")
    page.mouse.move(*at)
    page.mouse.down()
    page.mouse.move(at[0] + 25, at[1] - 90, steps=6)
    page.mouse.up()
    page.wait_for_function("a => document.querySelector('#fig-recipe-card').dataset.answers !== a", arg=before)
    assert _card_on_page(page, "recipe-card")[0][1] > moved_from[1] + 1  # the point went up
    assert said() == pytest.approx(torch_answers(trained.model), abs=1e-4)
    assert "recipe-card.pts=" in page.url
    figure.locator("[data-act=reset]").click()
    assert said() == pytest.approx(torch_answers(snapshot_model(trained.fit, 0)), abs=1e-4)
    assert errors == []
    page.close()


def test_the_lookup_reads_the_grain_the_darkness_slider_asks_about(browser, base, site_cache):
    """On the held-out mixed card, setting the query's darkness to each grain's mean reading puts
    more than 90% of the weight on that grain, and the page's answer equals the model's in torch."""
    import json
    from graintrain.article.figures.incontext import MIXED
    from graintrain.article.figures.lookup import _groups, shown_card
    trained = site_cache.get(MIXED)
    shown = shown_card(trained.data.near)
    card = trained.data.near.card()[shown:shown + 1]  # (1, M + 1, 3)
    group = _groups(card[0, :-1, 2])
    page, errors = open_page(browser, f"{base}/11-self-attention.html", only="card-lookup")
    figure = page.locator("#fig-card-lookup")
    xq = float(figure.locator("[data-lookup=x]").input_value())
    for g in range(int(group.max()) + 1):
        d = card[0, :-1, 2][group == g].mean().item()
        figure.locator("[data-lookup=d]").fill(f"{d:.2f}")
        dq = float(figure.locator("[data-lookup=d]").input_value())
        assert json.loads(figure.get_attribute("data-grains"))[g] > 0.9
        asked = card.clone()
        asked[0, -1] = torch.tensor([xq, 0.0, dq])
        with torch.no_grad():
            answer = trained.model(torch.tensor([xq]), asked).item()
        assert float(figure.get_attribute("data-answer")) == pytest.approx(answer, rel=1e-4)
    assert errors == []
    page.close()


def test_lab_draws_held_out_cards_and_the_answer_a_card_model_gives_each(browser, app_url):
    """Self-attention trained in the lab on mixed cards: for each held-out card drawn, the model's
    answer line ends within 5% of the true water of the grain asked about."""
    page, errors = open_lab(browser, f"{app_url}/lab?model=self-attention&dataset=recipe-cards-mixed")
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=60000)
    lines = page.evaluate("Object.fromEntries(document.querySelector('[data-plot=fit]').data"
                          ".filter(t => t.mode === 'lines').map(t => [t.name, t.y[t.y.length - 1]]))")
    cards = sorted({name.split(":")[0] for name in lines})
    assert len(cards) == 3 and not page.is_visible("input[name=three_d]")
    for card in cards:
        assert lines[f"{card}: model"] == pytest.approx(lines[f"{card}: true water"], rel=0.05), lines
    assert errors == []
    page.close()


def test_a_fresh_server_answers_at_once_and_each_figure_appears_when_trained(browser, tmp_path):
    """On an empty cache the page is served before any model has trained: each figure is a
    placeholder with its progress, the API says so, and once training runs in the background
    every figure takes its place on the open page, drawn, with no reload."""
    import httpx
    from graintrain.article.build import serve_site
    from graintrain.article.site import chapters, figures_used
    from graintrain.cache import Cache
    from conftest import serve
    names = figures_used(chapters()[0])
    site, builder = serve_site(Cache(tmp_path), names=names, workers=1, start=False)
    server, thread, _, url = serve(site, Cache(tmp_path))
    waiting = httpx.get(f"{url}/api/figures/white-line").json()
    assert waiting == {"ready": False, "have": 0, "need": 1, "failed": None}
    assert httpx.get(f"{url}/api/figures/no-such-figure").status_code == 404
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/01-rice-to-water.html")
    assert page.locator("figure[data-pending]").count() == len(names) > 0
    assert "0 of 1 ready" in page.locator("#fig-white-line").inner_text()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    builder.start()
    page.wait_for_function("document.querySelectorAll('figure[data-pending]').length === 0", timeout=60000)
    draw_every_figure(page)
    assert page.evaluate("window.sameDocument") is True and errors == []
    assert httpx.get(f"{url}/api/figures/white-line").json()["ready"] is True
    builder.join(timeout=60)
    server.should_exit = True
    thread.join(timeout=10)
    page.close()


def _under_policy(urls: list[str]) -> dict:
    """Open each page in a browser that keeps the pages' Content-Security-Policy in force; wait
    (polling from here, as the policy forbids Playwright's own eval) until every figure is drawn,
    or the lab is ready; return {url: console errors}."""
    from playwright.sync_api import sync_playwright
    seen = {}
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for url in urls:
            page = chromium.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            deadline = time.monotonic() + 60
            while not page.evaluate("document.body.dataset.ready === 'true' || (document.querySelectorAll"
                                    "('figure.gt-figure').length > 0 && [...document.querySelectorAll('figure.gt-figure')]"
                                    ".every(f => f.dataset.ready === 'true'))"):
                assert time.monotonic() < deadline, f"{url} never finished drawing"
                page.mouse.wheel(0, 600)  # figures are drawn as they scroll into view
                time.sleep(0.2)
            seen[url] = errors
            page.close()
        chromium.close()
    return seen


def test_the_pages_work_under_their_own_policy(app_url):
    """The server sends a Content-Security-Policy (scripts from itself only, no eval, no frames
    elsewhere): each kind of page, 3D scenes, 2D figures and the lab, draws under it with no error."""
    pages = [f"{app_url}/04-the-darkness-meter.html", f"{app_url}/09-attention.html", f"{app_url}/lab.html"]
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(_under_policy(pages)))  # a thread of its own:
    worker.start()  # Playwright's sync API runs one instance a thread, and this module's holds this one
    worker.join(timeout=300)
    assert result == {page: [] for page in pages}
