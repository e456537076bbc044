"""The lab's run settings: the one ``Run``, plus the reader's own CSV as a dataset."""

from __future__ import annotations

import dataclasses
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from ..datasets import DATA_OPTIONS, DATASETS
from ..options import OptionError
from ..plan import DataSpec
from ..recipe import LEARNS_LABELS, SEED
from ..runs import Run
from ..upload import UPLOAD

MAX_UPLOAD = 2_000_000  # characters of CSV
CHECK_POINTS = 64  # points made to check settings in the server; the worker makes all of them
MAX_PHOTO_BYTES = 256 * 2**20  # a lab job's photos: 20,000 of 24 pixels fit, 20,000 of 64 do not


class JobSettings(Run):
    """Everything that decides a lab run. The same settings train the same numbers."""

    dataset: Literal[(*DATASETS, UPLOAD)]  # type: ignore[valid-type]
    csv: str | None = Field(None, max_length=MAX_UPLOAD, description="CSV text when dataset is upload")
    pace: Literal["fast", "watch"] = Field("fast", description="fast: train at full speed; watch: "
                                           "spread the run over a few seconds, so a person can follow it")

    def _data_spec(self) -> DataSpec:
        """The reader's CSV, or the generated data the settings name."""
        if self.dataset != UPLOAD:
            return super()._data_spec()
        for name in (*(o.name for o in DATA_OPTIONS), *self.data_options()):
            if getattr(self, name) is not None:
                raise OptionError(name, "applies to generated data, not to upload")
        return DataSpec(UPLOAD, SEED.check(self.seed), csv=self.csv)

    @model_validator(mode="after")
    def _trains(self) -> "JobSettings":
        """Refuse now what would fail once the job started: data its generator or CSV reader
        refuses, and data that lacks what the model reads (photos, cards, labels)."""
        if self.dataset != UPLOAD and self.csv is not None:
            raise ValueError("csv is only read when dataset is upload")
        if self.dataset == UPLOAD and not self.csv:
            raise ValueError("dataset upload needs the CSV text in csv")
        spec = self.plan.data
        if self.dataset != UPLOAD and DATASETS[self.dataset].photos:
            size = dict(spec.options)["size"]
            held = spec.n * 3 * size * size * 4  # float32 pixels, in the worker and in a preview
            if held > MAX_PHOTO_BYTES:
                raise OptionError("n", f"asks for {spec.n:,} photos of {size}×{size} pixels ({held / 2**20:,.0f} MB); "
                                       f"the lab holds at most {MAX_PHOTO_BYTES // 2**20} MB of photos a job: "
                                       "ask for fewer or smaller ones")
        # Checked on a few points: what is refused does not depend on how many, and the server
        # never holds a large job's data (ten jobs of 20,000 photos once took it to 9 GB); the
        # worker makes the whole of it.
        sample = spec if self.dataset == UPLOAD else dataclasses.replace(spec, n=min(spec.n, CHECK_POINTS))
        data = sample.make()  # a CSVError names the line and column
        if data.classes == ("data",) and any(st.objective in LEARNS_LABELS for st in self.plan.recipe.stages):
            raise ValueError(f"{self.model} learns classes: the CSV needs a label column")
        self.probe(data)
        return self

    def without_csv(self) -> "JobSettings":
        """The settings as a finished job keeps them, the uploaded CSV dropped: a copy not checked
        again, since an upload without its CSV is no run one could start."""
        kept = BaseModel.model_copy(self, update={"csv": None})
        kept._plan = dataclasses.replace(self.plan, data=dataclasses.replace(self.plan.data, csv=None))
        return kept

    def run(self) -> Run:
        """The run these settings train (a generated dataset's; the lab's own fields aside)."""
        return Run(**self.model_dump(exclude={"csv", "pace"}))
