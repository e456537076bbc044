"""Chapter 10: the camera. The grains' photos, the CNN's gates on photos it never saw, what its first
filters learned, and the darkness meter merging two grains that the camera tells apart."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...datasets import FAR_CUPS, GRAINS
from ...metrics import gate_accuracy, match_experts, mse
from ...models import num_parameters
from ...lab import first_of_each
from ...runs import Run
from . import Figure, figure
from .plot import COLOURS, FAR, REPLAY, _json, _layout, _values, replay

CAMERA = Run(model="cross-attention", dataset="grain-photos", snapshots=REPLAY)
METER = Run(model="attention", dataset="grain-photos")
NO_GATE = Run(model="cnn-mlp", dataset="grain-photos")
PER_GRAIN = 4  # photos of each grain shown in a row
GAP = 2  # pixels between photos in a mosaic


def _mosaic(photos: torch.Tensor, columns: int, row_gap: int = GAP):
    """Photos (m, 3, H, W) with values 0..1 tiled into one RGBA image (Plotly's colormodel "rgba"),
    rows of ``columns``: colours 0..255, and opacity 1 on the photos, 0 between them, so the gaps
    take the page's own background."""
    m, _, h, w = photos.shape
    rows = -(-m // columns)
    sheet = torch.zeros(4, rows * (h + row_gap) - row_gap, columns * (w + GAP) - GAP)
    for i, photo in enumerate(photos):
        top, left = (i // columns) * (h + row_gap), (i % columns) * (w + GAP)
        sheet[:3, top:top + h, left:left + w] = photo.nan_to_num() * 255
        sheet[3, top:top + h, left:left + w] = photo.isfinite().all(0).float()  # a NaN tile stays empty
    # As bytes: Plotly writes an array as one base64 string, where a nested list costs it a
    # check of every pixel (about 0.4 s a picture here).
    return sheet.permute(1, 2, 0).round().to(torch.uint8).numpy()  # (H', W', 4)


def _centres(count: int, width: int) -> list[float]:
    """The x of each photo's middle in a one-row mosaic."""
    return [i * (width + GAP) + (width - 1) / 2 for i in range(count)]


def _pictures(fig) -> None:
    """Axes for a picture: no ticks or grid, rows downwards, each pixel as wide as it is tall."""
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")


def _look_alikes(data, split):
    """The points of ``split`` whose grain the meter cannot tell from another: classes whose
    training readings of darkness overlap, read from the data."""
    z, label = data.train.z, data.train.label
    low = torch.stack([z[label == k].min() for k in range(data.num_classes)])  # (C,)
    high = torch.stack([z[label == k].max() for k in range(data.num_classes)])  # (C,)
    overlap = (low[:, None] <= high[None]) & (low[None] <= high[:, None])  # (C, C)
    alike = (overlap.sum(1) > 1).nonzero().flatten()  # (A,) each overlaps itself and another
    return split.subset(torch.isin(split.label, alike))


@figure("grain-photos", CAMERA)
def grain_photos(get) -> Figure:
    """Training photos of each grain, with what the darkness meter read for each."""
    t = get(CAMERA)
    data, train = t.data, t.data.train
    shown = first_of_each(train, data.num_classes, 6)  # (18,)
    photos = train.photo[shown]  # (18, 3, H, W)
    size = photos.shape[-1]
    # Each row has its grain's name above it and the meter's readings under it, one line each, in a
    # band between rows wide enough for two lines of text even on a phone.
    band, per_row = 16, 6
    fig = go.Figure(go.Image(colormodel="rgba", z=_mosaic(photos, per_row, band), y0=band, hoverinfo="skip"))
    for k, grain in enumerate(data.classes):
        top = band + k * (size + band)
        readings = train.z[shown[k * per_row:(k + 1) * per_row]]
        fig.add_annotation(x=0, y=top - 1, text=GRAINS[grain].name, showarrow=False, xanchor="left",
                           yanchor="bottom", font=dict(size=12, color=COLOURS.get(grain)))
        fig.add_annotation(x=(per_row * (size + GAP) - GAP) / 2, y=top + size + 1, yanchor="top",
                           text="meter: " + " · ".join(f"{d:.2f}" for d in readings.tolist()),
                           showarrow=False, font=dict(size=10))
    _layout(fig, height=360)
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10))
    _pictures(fig)
    fig.update_yaxes(range=[len(data.classes) * (size + band) + band, 0], autorange=False)
    means = {g: train.z[train.label == k].mean().item() for k, g in enumerate(data.classes)}
    return Figure("grain-photos", _json(fig),
                  [(f"mean darkness, {GRAINS[g].name}", f"{d:.3f}") for g, d in means.items()]
                  + [("photo", f"{size}×{size} pixels, 3 colours")],
                  [],
                  {"grain": [data.classes[k] for k in train.label[shown].tolist()],
                   "darkness": _values(train.z[shown]),
                   "mean brightness": _values(photos.mean(dim=(1, 2, 3)))},
                  lab=CAMERA.query())


@figure("camera-gates", CAMERA)
def camera_gates(get) -> Figure:
    """Held-out photos, each above the gates the trained CNN gives the experts for it."""
    t = get(CAMERA)
    data, near = t.data, t.data.near
    shown = first_of_each(near, data.num_classes, PER_GRAIN)  # (12,)
    photos, cups = near.photo[shown], near.x[shown]  # (12, 3, H, W), (12,)
    size = photos.shape[-1]
    match = match_experts(t.model, data)
    grain_of = {e: data.classes[k] for k, e in zip(match.classes, match.expert)}
    experts = t.model.value.out_features
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.04)
    fig.add_trace(go.Image(colormodel="rgba", z=_mosaic(photos, len(shown)), hoverinfo="skip"), row=1, col=1)
    x = _centres(len(shown), size)

    def gates(model) -> torch.Tensor:
        with torch.no_grad():
            model(cups, photos)
        return model.weights  # (12, K)

    g = gates(t.model)
    first = len(fig.data)
    for e in range(experts):
        name = f"expert {e + 1} ({GRAINS[grain_of[e]].name})" if e in grain_of else f"expert {e + 1}"
        fig.add_trace(go.Bar(x=x, y=_values(g[:, e]), width=size, name=name,
                             marker_color=COLOURS.get(grain_of.get(e, ""), "#888")), row=2, col=1)
    _layout(fig, height=400, barmode="stack")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", row=1, col=1)
    fig.update_yaxes(title_text="gate", range=[0, 1], row=2, col=1)
    return Figure("camera-gates", _json(fig),
                  [("right gate, held-out photos", f"{gate_accuracy(t.model, data, near):.1%}"),
                   ("right gate, the two white rices", f"{gate_accuracy(t.model, data, _look_alikes(data, near)):.1%}"),
                   ("held-out photos", str(len(near)))],
                  replay([t], lambda ms: {first + e: {"y": [_values(gates(ms[0])[:, e])]} for e in range(experts)}),
                  {"grain": [data.classes[k] for k in near.label[shown].tolist()], "cups": _values(cups),
                   **{f"gate {e + 1}": _values(g[:, e]) for e in range(experts)}},
                  lab=CAMERA.query())


@figure("camera-filters", CAMERA)
def camera_filters(get) -> Figure:
    """The first convolution's filters after training, and what each makes of a photo of each grain."""
    t = get(CAMERA)
    data, near = t.data, t.data.near
    conv = t.model.key.features[0]
    w = conv.weight.detach()  # (F, 3, 3, 3)
    low = w.amin(dim=(1, 2, 3), keepdim=True)  # (F, 1, 1, 1)
    high = w.amax(dim=(1, 2, 3), keepdim=True)  # (F, 1, 1, 1)
    scaled = (w - low) / (high - low).clamp(min=1e-8)  # (F, 3, 3, 3) each filter from 0 to 1
    photos = near.photo[first_of_each(near, data.num_classes, 1)]  # (C, 3, H, W) one held-out photo per grain
    size = photos.shape[-1]
    with torch.no_grad():
        seen = t.model.key.features[:2](t.model.key.standardise(photos))  # (C, F, H/2, W/2) the first layer, ReLU'd
    seen = seen / seen.amax(dim=(0, 2, 3), keepdim=True).clamp(min=1e-8)  # (C, F, h, w) per filter
    grow = lambda img, by: img.repeat_interleave(by, -1).repeat_interleave(by, -2)  # noqa: E731  nearest
    blank = torch.full((1, 3, size, size), float("nan"))  # the empty corner
    tiles = [blank, grow(scaled, size // 3)]  # the top row: a blank corner, then each filter
    for c in range(len(photos)):  # then a row per grain: its photo, then each filter's response
        tiles += [photos[c:c + 1], grow(seen[c], size // seen.shape[-1]).unsqueeze(1).expand(-1, 3, -1, -1)]
    fig = go.Figure(go.Image(colormodel="rgba", z=_mosaic(torch.cat(tiles), 1 + len(w), 6), hoverinfo="skip"))
    _layout(fig, height=320)
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10))
    _pictures(fig)
    return Figure("camera-filters", _json(fig),
                  [("filters", f"{w.shape[0]} of {w.shape[2]}×{w.shape[3]} pixels, stride {conv.stride[0]}"),
                   ("CNN parameters", str(num_parameters(t.model.key)))],
                  [],
                  {f"filter {f + 1}": _values(w[f]) for f in range(len(w))},
                  lab=CAMERA.query())


@figure("meter-vs-camera", METER, NO_GATE, CAMERA)
def meter_vs_camera(get) -> Figure:
    """Each grain's water out to ten cups for the meter's attention, the ungated CNN network and
    cross-attention, each given one held-out photo (or reading) per grain."""
    runs = [get(METER), get(NO_GATE), get(CAMERA)]
    data = runs[0].data
    titles = ["darkness meter + attention", "camera, no gate", "camera + attention"]
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.04)
    test = data.test
    pick = first_of_each(test, data.num_classes, 1)  # (C,) one held-out point per grain
    for col, r in enumerate(runs, 1):
        reads = r.model.reads == "photo"
        for k, grain in enumerate(data.classes):
            mask = test.label == k
            fig.add_trace(go.Scatter(x=_values(test.x[mask]), y=_values(test.y[mask]), mode="markers",
                                     marker=dict(color=COLOURS.get(grain), size=5, opacity=0.5),
                                     name=GRAINS[grain].name, legendgroup=grain, showlegend=False), row=1, col=col)
            seen = test.photo[pick[k]] if reads else test.z[pick[k]]
            with torch.no_grad():
                line = r.model(FAR, seen.expand(len(FAR), *seen.shape))  # (F,)
            fig.add_trace(go.Scatter(x=_values(FAR), y=_values(line), mode="lines", name=GRAINS[grain].name,
                                     legendgroup=grain, showlegend=col == 1,
                                     line=dict(color=COLOURS.get(grain), width=3)), row=1, col=col)
    _layout(fig, height=380)
    fig.update_xaxes(title_text="cups (x)")
    fig.update_yaxes(title_text="water (y)", col=1)
    twins = _look_alikes(data, data.near)
    errors = [mse(r.model, twins) for r in runs]
    return Figure("meter-vs-camera", _json(fig),
                  [("parameters", " / ".join(str(num_parameters(r.model)) for r in runs)),
                   ("held-out MSE, the two white rices", " / ".join(f"{e:.4f}" for e in errors)),
                   (f"MSE at {FAR_CUPS:g} cups", " / ".join(f"{mse(r.model, data.far):.3f}" for r in runs)),
                   ("meter's error over the camera's, white rices", f"{errors[0] / errors[2]:.0f}×")],
                  [],
                  {"cups": _values(test.x), "grain": [data.classes[k] for k in test.label.tolist()],
                   "water": _values(test.y),
                   **{name: _values(r.model(test.x, test.selector(r.model)).detach())
                      for name, r in zip(("meter attention", "camera no gate", "cross-attention"), runs)}},
                  lab=CAMERA.query())
