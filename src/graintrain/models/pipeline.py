"""A pipeline: classify the grain first, then hand the cups to that grain's own line."""

from torch import Tensor, nn

from .classifier import Classifier


class Pipeline(nn.Module):
    """y = w_k·x + b_k with k = argmax_k p_k(z): a hard switch, so no gradient crosses it."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self, classes: int = 3):
        super().__init__()
        self.classifier = Classifier(classes)
        self.lines = nn.Linear(1, classes)  # one line per class: column k is w_k·x + b_k

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        choice = self.classifier(x, z).argmax(-1)  # (n,) which line to use
        answers = self.lines(x.unsqueeze(-1))  # (n, C) every line's answer
        return answers.gather(-1, choice.unsqueeze(-1)).squeeze(-1)  # (n,)

    def with_labels(self, x: Tensor, label: Tensor) -> Tensor:
        """The output when the true class is known: how each line is trained on its own grain."""
        answers = self.lines(x.unsqueeze(-1))  # (n, C)
        return answers.gather(-1, label.unsqueeze(-1)).squeeze(-1)  # (n,)
