"""The lab's run settings: one pydantic model, with each dataset option's field made from the registry."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ..datasets import DATASETS, Dataset, make_dataset
from ..models import MODELS
from ..options import Option
from ..train import OBJECTIVES, OPTIMIZERS
from ..upload import from_csv

UPLOAD = "upload"
MAX_UPLOAD = 2_000_000  # characters of CSV


def _field(option: Option) -> tuple:
    """A pydantic field for a registry option: its type and bounds, None when not given."""
    bounds = {k: v for k, v in (("ge", option.low), ("le", option.high)) if v is not None}
    if option.kind == "choice":
        kind: object = Literal[option.choices]  # type: ignore[valid-type]
    elif option.kind == "floats":
        kind = Annotated[list[Annotated[float, Field(allow_inf_nan=False, **bounds)]],
                         Field(min_length=option.length or 1, max_length=option.length or 16)]
    else:
        kind = Annotated[int, Field(strict=True, **bounds)] if option.kind == "int" else \
            Annotated[float, Field(allow_inf_nan=False, **bounds)]
    return kind | None, Field(None, description=option.help)


def _merged(name: str) -> Option:
    """One declaration for an option that several datasets declare (darkness: one reading per grain,
    so its length is left for each dataset's own check)."""
    same = [o for spec in DATASETS.values() for o in spec.options if o.name == name]
    lengths = {o.length for o in same}
    return same[0] if len(lengths) == 1 else dataclasses.replace(same[0], length=None)


# Every dataset option of the registry, as a field of the lab's settings.
DATASET_FIELDS = {name: _field(_merged(name))
                  for name in dict.fromkeys(o.name for spec in DATASETS.values() for o in spec.options)}


class _Settings(BaseModel):
    """Everything that decides a lab run. The same settings train the same numbers."""

    model_config = ConfigDict(extra="forbid")

    model: Literal[tuple(MODELS)]  # type: ignore[valid-type]
    dataset: Literal[(*DATASETS, UPLOAD)]  # type: ignore[valid-type]
    csv: str | None = Field(None, max_length=MAX_UPLOAD, description="CSV text when dataset is upload")
    hidden: list[Annotated[int, Field(ge=1, le=256)]] | None = Field(None, min_length=1, max_length=4)
    experts: int | None = Field(None, ge=1, le=16)
    optimizer: Literal[OPTIMIZERS] | None = None  # type: ignore[valid-type]
    objective: Literal[tuple(OBJECTIVES)] | None = None  # type: ignore[valid-type]
    lr: float | None = Field(None, gt=0, le=10)
    steps: int | None = Field(None, ge=1, le=20_000)
    restarts: int | None = Field(None, ge=1, le=10)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    noise: float | None = Field(None, ge=0, le=5)
    n: int | None = Field(None, ge=4, le=20_000)

    @model_validator(mode="after")
    def _fits_together(self) -> "_Settings":
        spec = MODELS[self.model]
        for option in ("hidden", "experts"):
            if getattr(self, option) is not None and option not in spec.options:
                raise ValueError(f"{option} applies to "
                                 f"{', '.join(m for m, s in MODELS.items() if option in s.options)}, "
                                 f"not to {self.model}")
        if self.dataset == UPLOAD and not self.csv:
            raise ValueError("dataset upload needs the CSV text in csv")
        if self.dataset == UPLOAD:
            data = from_csv(self.csv, seed=self.seed)  # a CSVError names the line and column
            learns_labels = any(st.objective in ("cross-entropy", "labelled") for st in spec.recipe.stages)
            if learns_labels and data.classes == ("data",):
                raise ValueError(f"{self.model} learns classes: the CSV needs a label column")
        if self.dataset != UPLOAD and self.csv is not None:
            raise ValueError("csv is only read when dataset is upload")
        if self.dataset != UPLOAD:
            self.data()  # make_dataset names options that do not apply and values this data refuses
        elif self.data_options():
            raise ValueError(f"{', '.join(self.data_options())} applies to generated data, not to upload")
        return self

    def data_options(self) -> dict:
        """The dataset options these settings give (only the ones set)."""
        return {k: (tuple(v) if isinstance(v, list) else v) for k in DATASET_FIELDS
                if (v := getattr(self, k, None)) is not None}

    def data(self) -> Dataset:
        """The dataset these settings name (or upload)."""
        if self.dataset == UPLOAD:
            return from_csv(self.csv, seed=self.seed)
        return make_dataset(self.dataset, n=self.n, noise=self.noise, seed=self.seed,
                            **self.data_options())

    def options(self) -> dict:
        """The model options these settings give (only the ones set)."""
        return {k: (tuple(v) if k == "hidden" else v) for k in MODELS[self.model].options
                if (v := getattr(self, k, None)) is not None}


JobSettings = create_model("JobSettings", __base__=_Settings, __doc__=_Settings.__doc__,
                           **DATASET_FIELDS)
