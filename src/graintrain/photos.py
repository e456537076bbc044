"""Photos of single grains, drawn at run time from a seed: the camera that replaces the darkness meter.

Each grain has a look: a colour (its darkness), a shape (the two half-axes of an ellipse, in pixels)
and a texture (how many dark bran speckles cover it). Every photo moves, turns and resizes its
grain, lights it unevenly and adds pixel noise, so no two photos of one grain are alike. Two grains
here share a colour but not a shape: white rice, long and thin, and round white rice, short and
plump (or any shape the look option gives it), which a darkness meter cannot tell apart and a
camera can.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .datasets import GRAINS, Dataset
from .grains import _grains

PALE = torch.tensor([0.95, 0.93, 0.86])  # the colour of a grain of darkness 0
DARK = torch.tensor([0.30, 0.17, 0.07])  # ... and of darkness 1; darkness mixes the two
TRAY = torch.tensor([0.16, 0.20, 0.28])  # the background the grain lies on
# How far each photo strays at lighting 1; the lighting option scales all four.
LIGHT, SLANT, TINT, PIXEL_NOISE = 0.2, 0.15, 0.04, 0.03  # brightness 1 ± LIGHT, gradient, colour, noise sd
DRAWN_AT = 24  # the photo size the looks' pixels are given at; other sizes scale them


@dataclass(frozen=True)
class Look:
    """How a grain appears: half-length and half-width in pixels, and its bran speckles' share."""

    length: float
    width: float
    speckles: float  # the share of the grain's surface covered by dark bran specks, 0 to 1


LOOKS = {
    "white": Look(8.0, 2.8, 0.0),  # long grain, polished: thin and clean
    "round-white": Look(5.0, 4.0, 0.0),  # short grain, polished: plump and clean
    "brown": Look(8.0, 2.8, 0.3),  # long grain with its bran: speckled
    "half-bran": Look(8.0, 2.8, 0.12),
    "franken": Look(6.0, 3.5, 0.4),
}
PHOTO_GRAINS = ["white", "round-white", "brown", "half-bran"]  # the grains option takes the first 2 to 4


def draw(grains: list[str], darkness: list[float], label: Tensor, gen: torch.Generator, size: int,
         lighting: float = 1.0, looks: dict[str, Look] = LOOKS) -> Tensor:
    """One photo per label, (n, 3, size, size): grain label[i] is grains[label[i]], coloured by its
    darkness, placed, turned, scaled, lit and noised at random by ``gen``; ``lighting`` scales how
    far the light, its gradient, its tint and the pixel noise stray."""
    n = len(label)
    look = [looks[g] for g in grains]
    length = torch.tensor([lk.length for lk in look])[label]  # (n,)
    width = torch.tensor([lk.width for lk in look])[label]  # (n,)
    speckles = torch.tensor([lk.speckles for lk in look])[label]  # (n,)
    colour = PALE + torch.tensor(darkness)[label, None] * (DARK - PALE)  # (n, 3)

    def uniform(spread: float, *shape: int, middle: float = 0.0) -> Tensor:
        return torch.empty(n, *shape).uniform_(middle - spread, middle + spread, generator=gen)

    centre = uniform(0.12 * size, 2)  # (n, 2) where the grain lies, in pixels
    turn = uniform(math.pi / 2, middle=math.pi / 2)  # (n,) its angle
    scale = uniform(0.15, middle=1.0) * size / DRAWN_AT  # (n,) its size
    light = uniform(LIGHT * lighting, middle=1.0)  # (n,) the overall brightness
    slant = uniform(SLANT * lighting, 2)  # (n, 2) a brightness gradient across the photo
    tint = uniform(TINT * lighting, 3)  # (n, 3) the light's colour

    grid = torch.arange(size) - (size - 1) / 2  # (S,) pixel centres around the middle
    v, u = torch.meshgrid(grid, grid, indexing="ij")  # (S, S) rows, columns
    du = u - centre[:, 0, None, None]  # (n, S, S)
    dv = v - centre[:, 1, None, None]  # (n, S, S)
    cos, sin = turn.cos()[:, None, None], turn.sin()[:, None, None]  # (n, 1, 1)
    along = (du * cos + dv * sin) / (length * scale)[:, None, None]  # (n, S, S) in half-lengths
    across = (dv * cos - du * sin) / (width * scale)[:, None, None]  # (n, S, S) in half-widths
    radius = (along.square() + across.square()).sqrt()  # (n, S, S) 1 on the grain's edge
    inside = torch.sigmoid((1 - radius) * 2.5 * (width * scale)[:, None, None])  # (n, S, S) soft edge
    relief = 0.8 + 0.2 * (1 - radius.square()).clamp(min=0)  # (n, S, S) the grain's rounded top
    specks = (torch.rand(n, size, size, generator=gen) < speckles[:, None, None]).float()  # (n, S, S)
    surface = colour[:, :, None, None] * (relief * (1 - 0.55 * specks))[:, None]  # (n, 3, S, S)
    photo = inside[:, None] * surface + (1 - inside[:, None]) * TRAY[:, None, None]  # (n, 3, S, S)
    shade = light[:, None, None] + (slant[:, :1, None] * u + slant[:, 1:, None] * v) / size  # (n, S, S)
    photo = photo * shade[:, None] * (1 + tint[:, :, None, None])  # (n, 3, S, S)
    photo = photo + PIXEL_NOISE * lighting * torch.randn(n, 3, size, size, generator=gen)  # (n, 3, S, S)
    return photo.clamp(0.0, 1.0)


def grain_photos(n: int, noise: float, seed: int, *, darkness: tuple[float, ...] | None, grains: int,
                 look: tuple[float, float], lighting: float, size: int) -> Dataset:
    """White rice (long), round white rice (short, same colour, 1.5 cups) and brown rice
    (speckled), and with grains=4 half-bran rice, each point with a photo of its grain; the options
    are declared, with their defaults, in datasets.PHOTO_OPTIONS."""
    kinds = PHOTO_GRAINS[:grains]
    data = _grains(kinds, kinds, n, noise, seed, "grain-photos", darkness)
    shades = list(darkness or [GRAINS[g].darkness for g in kinds])
    looks = LOOKS | {"round-white": Look(*look, LOOKS["round-white"].speckles)}
    gen = torch.Generator().manual_seed(seed + 2**20)  # its own draws: the meter's points stay as they were
    train, test = (dataclasses.replace(s, photo=draw(kinds, shades, s.label, gen, size, lighting, looks))
                   for s in (data.train, data.test))
    return dataclasses.replace(data, train=train, test=test)
