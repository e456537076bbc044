"""Options are declared once and checked the same way wherever a value comes from."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graintrain import DATASETS, Option, make_dataset

ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                st.text(max_size=5), st.dictionaries(st.integers(), st.integers(), max_size=2),
                st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=2)), max_size=4))
DECLARED = [o for spec in DATASETS.values() for o in spec.options]


@settings(max_examples=300, deadline=None)
@given(option=st.sampled_from(DECLARED), value=ANY)
def test_a_check_returns_a_value_in_bounds_or_names_the_option(option, value):
    try:
        checked = option.check(value)
    except ValueError as error:
        assert option.name in str(error)
        return
    numbers = checked if isinstance(checked, tuple) else (checked,) if option.kind != "choice" else ()
    for v in numbers:
        assert math.isfinite(v) and (option.low is None or v >= option.low) and (option.high is None or v <= option.high)
    if option.kind == "choice":
        assert checked in option.choices


def test_texts_parse_as_the_cli_writes_them():
    selector = next(o for o in DATASETS["switchboard"].options if o.name == "selector_range")
    assert selector.parse("-40,-30") == (-40.0, -30.0)
    with pytest.raises(ValueError, match="must increase"):
        selector.parse("1,1")
    lines = Option("lines", "int", 5, "how many", low=1)
    with pytest.raises(ValueError, match="at least 1, got 0"):  # one bound only
        lines.check(0)
    with pytest.raises(ValueError, match="finite"):
        lines.check(float("inf"))
    with pytest.raises(ValueError, match="takes 1 number, got 2"):
        Option("d", "floats", None, "one reading", length=1).check([0.1, 0.2])


def test_a_selector_range_too_narrow_for_32_bit_floats_is_refused():
    with pytest.raises(ValueError, match="too narrow"):
        make_dataset("switchboard", selector_range=(999999.99, 1e6))
    with pytest.raises(ValueError, match="too narrow"):
        make_dataset("switchboard", selector_range=(0.0, 1e-45))
    assert make_dataset("switchboard", selector_range=(999000.0, 1e6)).train.z.unique().numel() > 400


def test_a_run_refuses_data_not_made_with_its_own_data_settings():
    """Run(m=4, n=50).fit(data=d) trained on d and dropped m and n without a word; now it names
    them. Data the run made itself, or data that agrees with every setting it gives, still fits."""
    from graintrain.runs import Run
    run = Run(model="linear-self-attention", dataset="recipe-cards", m=4, n=50, steps=2)
    with pytest.raises(ValueError, match=r"n=50, m=4"):
        run.fit(make_dataset("recipe-cards", seed=0))
    assert len(run.fit(run.data()).losses) == 2
    grains = Run(model="line", dataset="three-grains", darkness=(0.0, 0.5, 0.95), steps=3)
    assert len(grains.fit(make_dataset("three-grains", darkness=(0.0, 0.5, 0.95))).losses) == 3
    with pytest.raises(ValueError, match="dataset=three-grains"):
        grains.fit(make_dataset("white"))


def test_the_readme_states_the_limits_that_are_declared():
    """The README tells a teacher what one server allows; each number there is read from the one
    declaration the code checks by, so the two cannot drift apart unseen."""
    from pathlib import Path

    from graintrain.datasets import POINTS
    from graintrain.models import HIDDEN
    from graintrain.recipe import RESTARTS, STEPS
    from graintrain.upload import CSV_MAX_LABELS, CSV_MAX_ROWS
    from graintrain.web.run_settings import MAX_PHOTO_BYTES, MAX_UPLOAD
    from graintrain.web.settings import Settings

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    defaults = Settings()
    for said in (f"steps ≤ {STEPS.high:,} a start and ≤ {RESTARTS.high} starts", f"points ≤ {POINTS.high:,}",
                 f"layers ≤ {HIDDEN.most} of ≤ {HIDDEN.high} units", f"photos ≤ {MAX_PHOTO_BYTES // 2**20} MB",
                 f"uploads ≤ {MAX_UPLOAD // 10**6} MB ({CSV_MAX_ROWS:,} rows, {CSV_MAX_LABELS} labels)",
                 f"{defaults.queue_limit} more may wait, and each stops after {defaults.job_seconds:g} s",
                 f"at most {defaults.max_connections:,} connections"):
        assert said in readme, said
