"""A small convolutional network: it looks at a photo and answers with a few numbers."""

import torch
from torch import Tensor, nn


class CNN(nn.Module):
    """Photo (n, C, H, W) → each photo standardised on its own → a 3×3 conv layer of stride 2 with
    ReLU → a 3×3 conv layer of stride 1, 2×2 max pooling, then ReLU → each channel's mean over the
    photo (so a grain anywhere reads alike) → a linear layer to ``out`` numbers."""

    SMALLEST = 4  # pixels a side: the stride-2 layer halves a photo and the pooling halves it again

    def __init__(self, out: int = 3, channels: tuple[int, int] = (8, 16), colours: int = 3):
        super().__init__()
        first, second = channels
        self.colours = colours
        self.features = nn.Sequential(
            nn.Conv2d(colours, first, 3, stride=2, padding=1), nn.ReLU(),  # edges and colours, at half size
            # ReLU after pooling: the same numbers as before it (the largest of four is positive
            # when any is), on a quarter of the pixels; a training step takes 0.6× the time here
            nn.Conv2d(first, second, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),  # ends, sides, specks
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out = nn.Linear(second, out)

    def check(self, photo: Tensor) -> None:
        """ValueError, naming the shape, for photos this network cannot read."""
        if photo.dim() != 4 or photo.shape[1] != self.colours or min(photo.shape[-2:]) < self.SMALLEST:
            raise ValueError(f"the CNN reads photos shaped (n, {self.colours}, H, W) with H and W at least "
                             f"{self.SMALLEST} pixels; got {tuple(photo.shape)}")

    @staticmethod
    def standardise(photo: Tensor) -> Tensor:
        """Each photo less its own mean, over its own standard deviation, (n, C, H, W)."""
        # A photo's light multiplies all its pixels alike: dividing it out leaves the grain's shape,
        # specks and colours as they are, so the filters need not learn every brightness (under
        # harsh light it lifts the worst seed's gate; benchmarks/README.md has the numbers).
        centred = photo - photo.mean((1, 2, 3), keepdim=True)  # (n, C, H, W)
        # The spread as the root of the mean square: PyTorch's std takes ten times as long here.
        return centred / centred.square().mean((1, 2, 3), keepdim=True).sqrt().clamp(min=1e-3)  # (n, C, H, W)

    def forward(self, photo: Tensor) -> Tensor:
        self.check(photo)
        photo = self.standardise(photo)  # (n, C, H, W)
        photo = photo.contiguous(memory_format=torch.channels_last)  # (n, C, H, W) pixel by pixel: 1.4× faster here
        seen = self.features(photo)  # (n, channels[1]) how much of each pattern the photo holds
        return self.out(seen)  # (n, out)
