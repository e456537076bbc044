"""The lab's run settings: the one ``Run``, plus the reader's own CSV as a dataset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..datasets import DATA_OPTIONS, DATASETS, Dataset
from ..options import OptionError
from ..runs import Run
from ..upload import UPLOAD, from_csv

MAX_UPLOAD = 2_000_000  # characters of CSV
CHECK_POINTS = 64  # points made to check settings in the server; the worker makes all of them
MAX_PHOTO_BYTES = 256 * 2**20  # a lab job's photos: 20,000 of 24 pixels fit, 20,000 of 64 do not


class JobSettings(Run):
    """Everything that decides a lab run. The same settings train the same numbers."""

    dataset: Literal[(*DATASETS, UPLOAD)]  # type: ignore[valid-type]
    csv: str | None = Field(None, max_length=MAX_UPLOAD, description="CSV text when dataset is upload")
    pace: Literal["fast", "watch"] = Field("fast", description="fast: train at full speed; watch: "
                                           "spread the run over a few seconds, so a person can follow it")

    @model_validator(mode="after")
    def _trains(self) -> "JobSettings":
        """Refuse now what would fail once the job started: data its generator or CSV reader
        refuses, and a recipe the model cannot take (mixture on a line)."""
        if self.dataset != UPLOAD and self.csv is not None:
            raise ValueError("csv is only read when dataset is upload")
        if self.dataset == UPLOAD:
            if not self.csv:
                raise ValueError("dataset upload needs the CSV text in csv")
            for name in (*(o.name for o in DATA_OPTIONS), *self.data_options()):
                if getattr(self, name) is not None:
                    raise OptionError(name, "applies to generated data, not to upload")
        if DATASETS.get(self.dataset) is not None and DATASETS[self.dataset].photos and self.n:
            size = self.data_options().get("size", next(o.default for o in DATASETS[self.dataset].options
                                                         if o.name == "size"))
            held = self.n * 3 * size * size * 4  # float32 pixels, in the worker and in a preview
            if held > MAX_PHOTO_BYTES:
                raise OptionError("n", f"asks for {self.n:,} photos of {size}×{size} pixels ({held / 2**20:,.0f} MB); "
                                       f"the lab holds at most {MAX_PHOTO_BYTES // 2**20} MB of photos a job: "
                                       "ask for fewer or smaller ones")
        # Checked on a few points: what is refused does not depend on how many, and the server
        # never holds a large job's data (ten jobs of 20,000 photos once took it to 9 GB); the
        # worker makes the whole of it.
        sample = self if self.dataset == UPLOAD or (self.n or 0) <= CHECK_POINTS else \
            self.model_copy(update={"n": CHECK_POINTS})
        data = sample.data()  # a CSVError names the line and column
        learns_labels = any(st.objective in ("cross-entropy", "labelled") for st in self.recipe().stages)
        if learns_labels and data.classes == ("data",):
            raise ValueError(f"{self.model} learns classes: the CSV needs a label column")
        sample.probe(data)
        return self

    def run(self) -> Run:
        """The run these settings train (a generated dataset's; the lab's own fields aside)."""
        return Run(**self.model_dump(exclude={"csv", "pace"}))

    def data(self) -> Dataset:
        """The dataset these settings name, or the uploaded CSV."""
        return from_csv(self.csv, seed=self.seed) if self.dataset == UPLOAD else super().data()
