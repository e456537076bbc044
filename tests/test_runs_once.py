"""A run is checked and resolved once: a setting's bound is tried one time, its recipe made one
time, and what trains afterwards (the command line, the lab's worker) reads the plan."""

from collections import Counter

import pytest

from graintrain import models, recipe  # noqa: F401 (the registered recipes are made on import, before counting)
from graintrain.cli import main
from graintrain.cli import fit as _fit  # noqa: F401
from graintrain.options import Option
from graintrain.web.run_settings import JobSettings


@pytest.fixture
def counted(monkeypatch):
    """How often each option's bound is checked, and how many recipes are made, from here on."""
    checks, recipes = Counter(), Counter()
    check, made = Option.check, recipe.Recipe.__post_init__

    def counting_check(self, value):
        checks[self.name] += 1
        return check(self, value)

    def counting_recipe(self):
        recipes["made"] += 1
        made(self)
    monkeypatch.setattr(Option, "check", counting_check)
    monkeypatch.setattr(recipe.Recipe, "__post_init__", counting_recipe)
    return checks, recipes


def test_the_command_line_checks_lr_and_steps_once_on_their_way_to_the_optimizer(counted, capsys):
    checks, recipes = counted
    assert main(["fit", "line", "white", "--lr", "0.1", "--steps", "3", "--optimizer", "sgd", "--json"]) == 0
    assert checks["lr"] == 1 and checks["steps"] == 1 and checks["optimizer"] == 1, checks
    assert recipes["made"] == 1


def test_a_lab_job_is_checked_once_and_its_worker_trains_by_the_plan(counted):
    checks, recipes = counted
    settings = JobSettings(model="attention", dataset="switchboard", lines=3, steps=7, lr=0.02)
    assert checks["steps"] == 1 and checks["lr"] == 1 and checks["lines"] == 1, checks
    before = dict(checks)
    fit = settings.plan.fit(settings.plan.data.make())  # what web/worker.py does with the settings
    assert dict(checks) == before and recipes["made"] == 1  # nothing checked or made again
    assert len(fit.losses) == settings.plan.total_steps == 7
