"""The article over HTTP (FastAPI's TestClient), its Markdown and figures, and the run cache."""

import csv
import io
import re
from importlib import resources

import pytest
import torch
from fastapi.testclient import TestClient

from graintrain.cache import Cache
from graintrain.runs import OPTIONS, Run
from graintrain.article.figures import FIGURES
from graintrain.web.main import create_app
from graintrain.web.settings import Settings
from graintrain.assets import PLOTLY_JS
from graintrain.article.site import chapters, figures_used, render_markdown


@pytest.fixture(scope="module")
def client(site, site_cache):
    return TestClient(create_app(Settings(cache_dir=site_cache.folder), site), base_url="http://127.0.0.1")


def test_every_chapter_and_the_contents_page_load(client, site):
    index = client.get("/")
    assert index.status_code == 200 and "Attention, from a rice cooker up" in index.text
    assert len(site.chapters) == len(list(resources.files("graintrain.article").joinpath("chapters").iterdir()))
    for chapter in site.chapters:
        page = client.get(f"/{chapter.page}")
        assert page.status_code == 200
        assert f"<h1>{chapter.title}</h1>" in page.text
        assert page.text.count('class="gt-figure"') == len(figures_used(chapter))
        for other in site.chapters:  # the table of contents lists every chapter
            assert f'href="{other.page}"' in page.text


def test_each_registered_figure_is_placed_and_each_placement_is_registered():
    placed = [name for chapter in chapters() for name in figures_used(chapter)]
    assert sorted(placed) == sorted(FIGURES)


def test_unknown_paths_get_a_real_404_page(client):
    for path in ("/no-such-chapter.html", "/a/b/c", "/data/nothing.csv", "/404.html"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Nothing cooking here" in response.text


def test_plotly_is_served_locally_and_nothing_loads_from_outside(client, site):
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) == PLOTLY_JS.stat().st_size
    for text in site.pages.values():
        assert not re.search(r'(src|href)="(https?:)?//', text)


def test_figure_csv_is_the_plotted_data(client, site):
    response = client.get("/data/white-line.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["cups", "water", "fitted"]
    x, y, fitted = (float(v) for v in rows[1])
    assert abs(fitted - y) < 0.5 and 0.5 <= x <= 4


def test_numbers_beside_a_figure_come_from_the_trained_model(site, site_cache):
    from graintrain.article.figures.lines import WHITE_GD
    model = site_cache.get(WHITE_GD).model
    stats = dict(site.figures["white-line"].stats)
    b = model.b.item()
    assert stats["fitted line"] == f"y = {model.w.item():.3f}·x {'−' if b < 0 else '+'} {abs(b):.3f}"
    assert abs(model.w.item() - 2) < 0.05
    frames = site.figures["white-line"].frames  # the numbers follow the replay: at step 0, the start
    start = dict(frames[0]["stats"])["fitted line"]
    assert dict(frames[-1]["stats"]) == stats and start != stats["fitted line"]
    from graintrain.train import snapshot_model
    first = snapshot_model(site_cache.get(WHITE_GD).fit, 0)
    assert start.startswith(f"y = {first.w.item():.3f}·x")


def test_replays_step_through_the_trainers_snapshots(site):
    frames = site.figures["white-line"].frames
    assert len(frames) == 21 and frames[0]["step"] == 0 and frames[-1]["step"] == 200
    assert frames[0]["loss"] > 10 * frames[-1]["loss"]  # it really learned along the way


def test_math_becomes_mathml_and_figures_need_a_registered_name():
    out = render_markdown("Inline $w\\,x + b$ and\n\n$$y = \\sum_k g_k v_k$$\n")
    assert re.search(r'<math[^>]*display="inline"', out) and re.search(r'<math[^>]*display="block"', out)
    assert "$" not in out
    with pytest.raises(KeyError, match="unknown-figure"):
        render_markdown("::: figure unknown-figure\ncaption\n:::\n",
                        lambda name, caption: (_ for _ in ()).throw(KeyError(name)))


def test_cache_loads_what_it_saved_and_keys_on_what_decides_the_numbers(tmp_path):
    cache = Cache(tmp_path)
    run = Run(model="sigma-pi", dataset="white+brown", optimizer="adam", steps=30, snapshots=4)
    first = cache.get(run)
    again = cache.get(run)
    assert not first.from_cache and again.from_cache
    assert torch.equal(first.model.a, again.model.a) and first.fit.losses == again.fit.losses
    assert len(again.fit.snapshots) == 4
    keys = {run.key(), run.model_copy(update={"seed": 1}).key(), run.model_copy(update={"steps": 31}).key(),
            run.model_copy(update={"darkness": (0.0, 0.9)}).key(), run.model_copy(update={"snapshots": 5}).key()}
    assert len(keys) == 5


def test_a_model_that_starts_from_the_data_loads_whole_without_starting_again(tmp_path):
    # A run loaded from the cache is built with make_model(start=False): its saved state must bring
    # back all that attention's start set, the selector's standardisation on z far from [0, 1] too.
    run = Run(model="attention", dataset="switchboard", selector_range=(-40.0, -30.0), optimizer="adam", steps=5)
    cache = Cache(tmp_path)
    first, again = cache.get(run), cache.get(run)
    assert again.from_cache
    data = again.data
    bare = run.build(data, start=False)
    assert (bare.shift.item(), bare.scale.item()) == (0.0, 1.0)  # not started
    assert abs(again.model.shift.item() - data.train.z.mean().item()) < 1e-3  # as the start set it
    with torch.no_grad():
        assert torch.equal(first.model(data.test.x, data.test.z), again.model(data.test.x, data.test.z))


def test_losses_are_kept_exactly_and_older_entries_with_a_list_still_load(tmp_path):
    # Losses are saved as one float64 tensor (a list took most of a load's time); entries written
    # before that hold a Python list, and must load the same.
    run = Run(model="line", dataset="white", steps=10)
    cache = Cache(tmp_path)
    trained = cache.get(run)
    saved = torch.load(cache.path(run), weights_only=True)
    assert saved["losses"].dtype == torch.float64
    assert cache.get(run).fit.losses == trained.fit.losses  # exact: float64 holds a Python float
    torch.save({**saved, "losses": trained.fit.losses}, cache.path(run))
    older = cache.get(run)
    assert older.from_cache and older.fit.losses == trained.fit.losses


def test_a_write_cut_off_midway_leaves_no_file(tmp_path):
    cache = Cache(tmp_path)

    def crash(handle):
        handle.write(b"half a model")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.write_atomic(tmp_path / "entry.pt", crash)
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_only_old_leftovers_of_writers_that_were_killed(tmp_path):
    import os
    import time
    cache = Cache(tmp_path)
    old, fresh, kept = tmp_path / ".tmp-old", tmp_path / ".tmp-fresh", tmp_path / "run.pt"
    for path in (old, fresh, kept):
        path.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    os.utime(kept, (hours_ago, hours_ago))
    assert cache.sweep() == 1
    assert not old.exists() and fresh.exists() and kept.exists()  # a write in progress is left alone


def test_a_damaged_cache_entry_is_trained_again(tmp_path):
    cache = Cache(tmp_path)
    run = Run(model="line", dataset="white", steps=10)
    cache.path(run).parent.mkdir(parents=True, exist_ok=True)
    cache.path(run).write_bytes(b"not a model")
    trained = cache.get(run)
    assert not trained.from_cache and abs(trained.model.w.item() - 2) < 0.05


def test_every_trained_figure_replays_its_training(site):
    # the reader's own line; two wired by hand; summaries over a whole study and over many runs;
    # parameters counted on untrained models
    untrained = {"line-refresher", "relu-switch", "diode-transistor", "study-recovery", "attention-variants",
                 "switch-cost", "relu-kinks",  # relu-kinks steps through widths instead
                 "switch-network", "attention-network",  # these step through inputs instead
                 "grain-photos", "camera-filters", "meter-vs-camera",  # photos, pictures, three schedules
                 "card-length"}  # a sweep: twelve runs over six card lengths
    for name, fig in site.figures.items():
        assert (len(fig.frames) >= 2) == (name not in untrained), name
        assert fig.stats and fig.table, name


def test_the_article_shows_the_recorded_numbers(site):
    # tests/fixtures/article_numbers.json fingerprints every figure's stats and data table; moving
    # code around must change none of them (rewrite it with `python tests/article_numbers.py` only
    # when a number is meant to change, and say why in the commit).
    import json
    from article_numbers import FIXTURE, fingerprint
    recorded, now = json.loads(FIXTURE.read_text()), fingerprint(site.figures)
    assert sorted(now) == sorted(recorded)
    for name, fig in recorded.items():
        assert now[name]["stats"] == fig["stats"], name
        for column, value in fig["table"].items():
            assert now[name]["table"][column] == (value if isinstance(value, str)
                                                  else pytest.approx(value, rel=1e-6, abs=1e-9)), (name, column)


def test_one_colour_table_for_the_figures_the_pages_and_the_lab(site):
    import json
    import re
    from graintrain.palette import GRAIN_COLOURS, palette
    page = site.pages["09-attention.html"]
    embedded = re.search(r'<script type="application/json" id="palette">(.*?)</script>', page).group(1)
    assert json.loads(embedded) == palette()
    traces = site.figures["attention-weights"].plot["data"]
    assert {t["line"]["color"] for t in traces if t.get("mode") == "lines"} == {
        GRAIN_COLOURS[g] for g in ("white", "brown", "franken")}


def _lab_settings(query: str) -> dict:
    """A figure's lab link read the way lab.js reads it: numbers as numbers, lists split at commas."""
    from urllib.parse import parse_qsl

    def number(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text
    return {k: [number(p) for p in v.split(",")] if k in OPTIONS and OPTIONS[k].is_list else number(v)
            for k, v in parse_qsl(query)}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_links_to_a_lab_run_that_trains_exactly_its_run(site, name):
    from graintrain.web.jobs import JobSettings
    link = site.figures[name].lab
    lab_run = JobSettings(**_lab_settings(link)).run()
    assert Run.from_query(link) == lab_run  # the server reads the link as the page sends it
    figure_runs = [r.model_copy(update={"snapshots": 0}) for r in FIGURES[name].runs if isinstance(r, Run)]
    assert lab_run in figure_runs, (link, figure_runs)
    assert lab_run.plan.recipe in [r.plan.recipe for r in figure_runs]


def test_a_relu_network_bends_at_most_once_per_unit_and_nears_the_curve_as_it_widens(site):
    """Chapter 5's widening networks on the curved grain: no more kinks than units, and the mean
    squared gap to the true curve over the measured cups falls at every step of width, by over a
    hundredfold from one unit to the widest."""
    controls = site.figures["relu-kinks"].controls
    for units, kinks in zip(controls["units"], controls["kinks"]):
        assert 0 < len(kinks["x"]) <= units, (units, kinks["x"])
    gaps = controls["gaps"]
    assert all(wide < narrow for narrow, wide in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] < gaps[0] / 100, gaps


def _network_at(controls: dict, cups: float, darkness: float) -> int:
    return controls["cups"].index(cups) * len(controls["darkness"]) + controls["darkness"].index(darkness)


@pytest.mark.parametrize("name", ["switch-network", "attention-network"])
def test_the_network_diagrams_answer_each_grain_with_its_own_ratio(site, name):
    """At each grain's darkness the diagram's water is that grain's ratio times the cups (white 2,
    brown 3, franken 1), read from the trained model's forward pass at four cups."""
    controls = site.figures[name].controls
    for darkness, ratio in ((0.0, 2.0), (0.5, 3.0), (0.95, 1.0)):
        i = _network_at(controls, 4.0, darkness)
        water = float(controls["labels"][i][-1])
        assert water == pytest.approx(4.0 * ratio, abs=0.25), (darkness, water)
        assert controls["says"][i].endswith(f"water {water:.2f} cups.")
    assert len(controls["signals"][0]) == controls["wires"] == len(controls["gates"])


def test_the_switch_diagram_shows_a_shut_unit_and_attention_a_gate_near_one(site):
    switch = site.figures["switch-network"].controls
    white = _network_at(switch, 2.0, 0.0)
    assert any(label.startswith("off (-") for label in switch["labels"][white])  # a diode held shut
    attention = site.figures["attention-network"].controls
    for darkness in (0.0, 0.5, 0.95):
        gates = [s for s, gate in zip(attention["signals"][_network_at(attention, 2.0, darkness)],
                                      attention["gates"]) if gate]
        assert max(gates) > 0.9 and sum(gates) == pytest.approx(1.0, abs=1e-3), (darkness, gates)


def test_the_camera_chapter_shows_its_claims(site):
    """Chapter 10's numbers, as the article prints them: the two white rices read alike on the
    meter, the camera's gate picks the right expert, and the meter's error on them is far larger."""
    stats = {name: dict(site.figures[name].stats) for name in ("grain-photos", "camera-gates", "meter-vs-camera")}
    darkness = stats["grain-photos"]
    assert abs(float(darkness["mean darkness, white rice"]) - float(darkness["mean darkness, round white rice"])) < 0.01
    assert float(stats["camera-gates"]["right gate, the two white rices"].rstrip("%")) >= 95
    meter, no_gate, camera = (float(v) for v in stats["meter-vs-camera"]["held-out MSE, the two white rices"].split(" / "))
    assert meter >= 5 * camera and no_gate > camera
    far = [float(v) for v in stats["meter-vs-camera"]["MSE at 10 cups"].split(" / ")]
    assert far[1] >= 10 * far[2]  # the camera without a gate drifts far from the measured amounts


def _numbers(text: str) -> list[float]:
    return [float(v) for v in text.split(" / ")]


def test_the_self_attention_chapter_shows_its_claims(site, site_cache):
    """Chapter 11's sentences, read back from the numbers it prints: the layer is one GD step and
    stays far above least squares; the ReLU network beats the step in range but not at ten cups on
    long cards; the softmax lookup reads the query's grain and nearly matches least squares on it,
    with a W that stretches darkness and a c near 2."""
    stats = {name: dict(site.figures[name].stats)
             for name in ("recipe-card", "card-length", "card-weights", "card-lookup")}
    card = stats["recipe-card"]
    assert float(card["layer vs GD step: squared gap / spread"].rstrip("%")) < 1
    layer, gd = float(card["held-out MSE, the layer"]), float(card["held-out MSE, one GD step"])
    assert abs(layer - gd) < 0.05 * gd and layer > 100 * float(card["held-out MSE, least squares"])
    length = site.figures["card-length"].table
    near = {n: length[f"{n}, in range"] for n in ("the layer", "one GD step", "least squares", "ReLU network")}
    assert all(a > 100 * b for a, b in zip(near["the layer"], near["least squares"]))
    assert near["the layer"][-1] < near["the layer"][0] / 10  # more examples help, slowly
    assert all(net < step for net, step in zip(near["ReLU network"], near["one GD step"]))
    _, step_far, _, net_far = _numbers(stats["card-length"]["m = 32, at 10 cups: layer / GD step / least squares / network"])
    assert net_far > step_far
    weights = stats["card-weights"]
    assert float(weights["share of M in its x·y entries"].rstrip("%")) >= 95
    assert 0.7 <= float(weights["its step over η*"]) <= 1.1
    lookup = stats["card-lookup"]
    assert float(lookup["held-out weight on the query's grain, mean"].rstrip("%")) >= 99
    said = float(lookup["held-out MSE, self-attention"])
    assert said <= 1.5 * float(lookup["… least squares on the query's grain alone"])
    assert said * 100 < float(lookup["… least squares on the whole card"])
    assert abs(float(lookup["c, the weight of a bigger pot"]) - 2) < 0.25
    from graintrain.article.figures.incontext import MIXED
    W = site_cache.get(MIXED).model.embed.weight.detach().abs()  # (2, 2) columns: cups, darkness
    assert W[:, 1].norm() > 10 * W[:, 0].norm()
