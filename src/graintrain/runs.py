"""A training run, declared once: what the CLI, the lab, the cache, the article and the study train.

``Run`` is one validated description of a run: a registered model and dataset, their options, any
change to the model's recipe, and the seed. Its fields are made from the options each registry
declares (the seed and the recipe's in ``recipe.py``, the data's in ``datasets.py``, the models' in
``models/``), so a bound is written once, and checked once, when the Run is made, which resolves
it into ``plan`` (``plan.py``). The CLI makes its flags from the same declarations and the lab its
form (through ``/api/registry``); ``key`` names the run in the cache, ``query`` is the lab link
that trains it, and ``fit`` trains it by its plan with the one trainer.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Annotated, Callable, Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, model_validator
from torch import nn

from .datasets import DATA_OPTIONS, DATASETS, Dataset, dataset_options
from .models import MODELS
from .options import Option, OptionError, check_options, takers, with_defaults
from .recipe import RECIPE_OPTIONS, SEED, Recipe
from .plan import DataSpec, Plan
from .run_options import GROUPS, OPTIONS
from .train import SEEDING, Fit


STAGE = ("optimizer", "objective", "lr", "steps")  # the options that make a run's recipe one stage


def _field(option: Option) -> tuple:
    """A pydantic field for an option: its type only, since the registry that declares the option
    checks its value (Run._plan_it); unset (None) unless it is the seed."""
    number = Annotated[int, Field(strict=True)] if option.kind in ("int", "ints") else \
        Annotated[float, Field(allow_inf_nan=False)]
    if option.kind == "choice":
        kind: object = str
    elif option.is_list:
        kind = tuple[number, ...]  # type: ignore[valid-type]
    else:
        kind = number
    if option is SEED:
        return kind, Field(option.default, description=option.help)
    return kind | None, Field(None, description=option.help)


def _text(value) -> str:
    """A value as a link writes it: exact (repr round-trips a float), without a trailing .0."""
    text = repr(value) if isinstance(value, float) else str(value)
    return text.removesuffix(".0")


class _Run(BaseModel):
    """What to train: a registered model on a registered dataset, with options, recipe and seed.
    Made, it has checked every setting once and resolved them into ``plan``, which the rest reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal[tuple(MODELS)]  # type: ignore[valid-type]
    dataset: Literal[tuple(DATASETS)]  # type: ignore[valid-type]
    snapshots: int = Field(0, ge=0, le=1000, description="parameter snapshots kept for a replay")
    _plan: Plan = PrivateAttr()

    @model_validator(mode="after")
    def _plan_it(self) -> "_Run":
        """Check each setting by the registry that declares it (an OptionError names it), once, and
        resolve the plan: the model's options, the data and the recipe, defaults filled."""
        spec = MODELS[self.model]
        options = check_options(MODELS, self.model, self._given(GROUPS["model"]), "model")
        recipe = self._recipe()  # a Stage and a Recipe check their own settings
        for stage in recipe.stages:
            if stage.objective not in spec.objectives:
                raise OptionError("objective", f"{stage.objective} cannot train {self.model}, which "
                                               f"trains on {' or '.join(spec.objectives)}")
        self._plan = Plan(self.model, tuple(with_defaults(spec.options, options).items()), self._data_spec(), recipe)
        return self

    @property
    def plan(self) -> Plan:
        """The run resolved: what the command line, the lab, the cache and the study train by."""
        return self._plan

    def model_copy(self, *, update: dict | None = None, deep: bool = False):
        """A copy with ``update`` applied, checked and planned anew (pydantic's own copy would keep
        the old plan and check nothing)."""
        if not update:
            return super().model_copy(deep=deep)
        return type(self)(**{**self.model_dump(exclude_unset=True), **update})

    def _given(self, options) -> dict:
        return {o.name: v for o in options if (v := getattr(self, o.name)) is not None}

    def model_options(self) -> dict:
        """The model's options this run sets, e.g. {"hidden": (3, 2)}."""
        return self._given(MODELS[self.model].options)

    def data_options(self) -> dict:
        """The dataset's own options this run sets (n and noise aside), e.g. {"lines": 5}."""
        return self._given(GROUPS["data"][len(DATA_OPTIONS):])

    def _data_spec(self) -> DataSpec:
        """The data this run names, checked, the dataset's declared defaults filled."""
        given = {o.name: o.check(v) for o in DATA_OPTIONS if (v := getattr(self, o.name)) is not None}
        spec = DATASETS[self.dataset]
        own = dataset_options(self.dataset, self.data_options())
        return DataSpec(self.dataset, SEED.check(self.seed), given.get("n", spec.n), given.get("noise", spec.noise),
                        tuple(with_defaults(spec.options, own).items()))

    def _recipe(self) -> Recipe:
        """The model's registered recipe with this run's seed and snapshots; any of optimizer,
        objective, lr and steps make it one stage, which starts from the first registered stage."""
        own = MODELS[self.model].recipe
        stage = self._given(o for o in RECIPE_OPTIONS if o.name in STAGE)
        stages = (dataclasses.replace(own.stages[0], **stage),) if stage else own.stages
        return Recipe(stages, self.restarts or own.restarts, seed=self.seed,
                      snapshots=max(own.snapshots, self.snapshots))

    def data(self) -> Dataset:
        """The run's dataset, made by its plan."""
        return self.plan.data.make()

    def _unlike(self, data: Dataset) -> list[str]:
        """This run's data settings, as name=value, that ``data`` was not made with."""
        made = {"dataset": data.name, "n": len(data.train.y), "noise": data.noise, **data.options}
        wanted = {"dataset": self.dataset, **self._given(DATA_OPTIONS), **self.data_options()}
        return [f"{k}={_text(v)}" for k, v in wanted.items() if made.get(k) != v]

    def build(self, data: Dataset, start: bool = True) -> nn.Module:
        """A fresh, untrained model for this run's data (``Plan.build``)."""
        return self.plan.build(data, start=start)

    def probe(self, data: Dataset) -> nn.Module:
        """An untrained model for ``data``: a ValueError if the data lacks what the model reads
        (photos, cards), the one thing about a run that only its data can tell."""
        with SEEDING:  # building draws from the global RNG, which another thread may be seeding
            return self.build(data)

    def fit(self, data: Dataset | None = None, on_step: Callable[[int, int, float], None] | None = None,
            on_build: Callable[[nn.Module], None] | None = None) -> Fit:
        """Train the run by its plan; ``on_build`` sees each start's model before it trains."""
        if data is None:
            data = self.data()
        elif unlike := self._unlike(data):  # fitting anyway would drop these settings unsaid
            raise ValueError(f"the data given to fit was not made with this run's {', '.join(unlike)}: "
                             "leave those settings out of the run, or let it make its own data (fit())")
        return self.plan.fit(data, on_step=on_step, on_build=on_build)

    def key(self) -> str:
        """A file name that changes whenever anything that decides the numbers changes."""
        from . import __version__
        text = repr((self.model_dump(exclude_defaults=True), self.plan.recipe, __version__))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def query(self) -> str:
        """The lab's query string that trains exactly this run (replay snapshots aside)."""
        given = self.model_dump(exclude_defaults=True, exclude={"snapshots"})
        return urlencode({k: ",".join(map(_text, v)) if isinstance(v, tuple) else _text(v)
                          for k, v in given.items()})

    @classmethod
    def parse(cls, texts: dict[str, str]):
        """A run from settings written as text (command-line flags, a link's query); an
        OptionError or pydantic's ValidationError says what is wrong."""
        return cls(**{k: OPTIONS[k].read(v) if k in OPTIONS else v for k, v in texts.items()})

    @classmethod
    def from_query(cls, query: str):
        """The run a lab link trains (``query``'s inverse)."""
        return cls.parse(dict(parse_qsl(query, keep_blank_values=True)))


Run = create_model("Run", __base__=_Run, __doc__=_Run.__doc__,
                   **{name: _field(option) for name, option in OPTIONS.items()})


def schema() -> list[dict]:
    """Every run option as JSON for the lab's form: its declaration, its group, and the models or
    datasets it applies to (none named: it applies to all)."""
    out = []
    for group, options in GROUPS.items():
        for o in options:
            entry = o.schema() | {"group": group}
            if group == "model":
                entry["models"] = takers(MODELS, o.name)
            elif group == "data" and o not in DATA_OPTIONS:
                entry["datasets"] = takers(DATASETS, o.name)
            out.append(entry)
    return out
