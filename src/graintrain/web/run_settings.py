"""The lab's run settings: the one ``Run``, plus the reader's own CSV as a dataset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..datasets import DATA_OPTIONS, DATASETS, Dataset
from ..options import OptionError
from ..runs import Run
from ..upload import from_csv

UPLOAD = "upload"
MAX_UPLOAD = 2_000_000  # characters of CSV


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
        data = self.data()  # a CSVError names the line and column
        learns_labels = any(st.objective in ("cross-entropy", "labelled") for st in self.recipe().stages)
        if learns_labels and data.classes == ("data",):
            raise ValueError(f"{self.model} learns classes: the CSV needs a label column")
        self.probe(data)
        return self

    def run(self) -> Run:
        """The run these settings train (a generated dataset's; the lab's own fields aside)."""
        return Run(**self.model_dump(exclude={"csv", "pace"}))

    def data(self) -> Dataset:
        """The dataset these settings name, or the uploaded CSV."""
        return from_csv(self.csv, seed=self.seed) if self.dataset == UPLOAD else super().data()
