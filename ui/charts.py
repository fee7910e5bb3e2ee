"""Plotly figures and display images for the app's pages (no Streamlit here, so they are easy to test)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont
from plotly.subplots import make_subplots

from hdr.inference.predict import format_confidence
from hdr.settings import NUM_CLASSES

WINNER_COLOUR = "#2563eb"  # the theme's primary colour
OTHER_COLOUR = "#cbd5e1"
TRAIN_COLOUR, VAL_COLOUR = "#2563eb", "#f97316"
CHART_HEIGHT = 260  # px: training curves and the confusion matrix's neighbours
BARS_HEIGHT = 200  # px: the bars fit under the digit beside Draw's canvas on a 768 px high screen
BAR_LABEL_MIN = 0.01  # smaller probabilities get no label over their bar: it would be too short to carry one
INPUT_ZOOM = 6  # the 28x28 model input is shown 6x (168 px) with hard pixel edges
BOX_COLOUR = (239, 68, 68)  # red boxes stand out on paper and on screens
DISPLAY_SIDE = 800  # photos are shown at most this large; boxes are scaled to match


def probability_bars(probabilities: np.ndarray, winner: int | None) -> go.Figure:
    """Bars of the ten class probabilities, the predicted digit highlighted."""
    digits = [str(d) for d in range(NUM_CLASSES)]
    colours = [WINNER_COLOUR if d == winner else OTHER_COLOUR for d in range(NUM_CLASSES)]
    fig = go.Figure(
        go.Bar(
            x=digits,
            y=probabilities,
            marker_color=colours,
            text=[format_confidence(p) if p >= BAR_LABEL_MIN else "" for p in probabilities],
            textposition="outside",
            constraintext="none",  # full-size labels, even over a narrow bar
            cliponaxis=False,  # a label over a full bar stands above the plot's top
            customdata=[format_confidence(p) for p in probabilities],
            hovertemplate="digit %{x}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        height=BARS_HEIGHT,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(range=[0, 1.1], tickformat=".0%"),
        xaxis=dict(type="category"),
    )
    return fig


def training_curves(history: dict[str, list[float]], batch_logs: dict[str, list[float]], batches: int) -> go.Figure:
    """Accuracy and loss per epoch (train and validation), with the running batch curve of the current epoch.

    Args:
        history: Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``.
        batch_logs: Per-batch running ``loss`` and ``accuracy`` since training began.
        batches: Batches per epoch, to place batch points on the epoch axis.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Loss"))
    for col, metric in ((1, "accuracy"), (2, "loss")):
        points = batch_logs.get(metric, [])
        if points and batches:
            x = [(i + 1) / batches for i in range(len(points))]
            fig.add_trace(
                go.Scatter(x=x, y=points, mode="lines", line=dict(color=TRAIN_COLOUR, width=1), opacity=0.35, name=f"train {metric} (batches)", showlegend=col == 1),
                row=1, col=col,
            )  # fmt: skip
        for key, colour, label in ((metric, TRAIN_COLOUR, "train"), (f"val_{metric}", VAL_COLOUR, "validation")):
            values = history.get(key, [])
            if values:
                fig.add_trace(
                    go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", line=dict(color=colour), name=label, showlegend=col == 1),
                    row=1, col=col,
                )  # fmt: skip
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(
        height=CHART_HEIGHT + 40, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25)
    )
    return fig


def confusion_heatmap(matrix: list[list[int]]) -> go.Figure:
    """The confusion matrix, true digit down, predicted digit across; the diagonal dims so mistakes stand out."""
    cm = np.asarray(matrix)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    digits = [str(d) for d in range(NUM_CLASSES)]
    fig = go.Figure(
        go.Heatmap(
            z=np.log1p(off),
            x=digits,
            y=digits,
            text=cm,
            texttemplate="%{text}",
            colorscale="Reds",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        height=420, margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="predicted", type="category", side="top"),
        yaxis=dict(title="true", type="category", autorange="reversed"),
    )  # fmt: skip
    return fig


def enlarge(image: np.ndarray, zoom: int = INPUT_ZOOM) -> np.ndarray:
    """A small ``(H, W)`` or ``(H, W, 1)`` float image in [0, 1] as ``uint8``, each pixel a ``zoom`` square."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[..., 0]
    if image.max() > 1.0:
        image = image / 255.0
    return np.kron(np.round(image * 255).astype(np.uint8), np.ones((zoom, zoom), np.uint8))


def draw_boxes(
    photo: Image.Image, boxes: list[tuple[tuple[int, int, int, int], str]], size: tuple[int, int] | None = None
) -> Image.Image:
    """A display copy of ``photo`` (at most ``DISPLAY_SIDE``) with labelled boxes.

    Args:
        photo: The upright picture, possibly decoded reduced (a large JPEG).
        boxes: ``((x, y, w, h), label)`` in the pixels of a picture of ``size``.
        size: ``(width, height)`` of the picture the boxes refer to: the file's full size when the
            reader measured them there; by default ``photo``'s own.
    """
    shown = photo.convert("RGB")
    shown.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
    scale = shown.width / (size or photo.size)[0]
    draw = ImageDraw.Draw(shown)
    line = max(2, round(min(shown.size) / 150))
    font = ImageFont.load_default(size=max(14, round(min(shown.size) / 12)))
    for (x, y, w, h), label in boxes:
        x0, y0, x1, y1 = (round(v * scale) for v in (x, y, x + w, y + h))
        draw.rectangle((x0, y0, x1, y1), outline=BOX_COLOUR, width=line)
        if label:
            left, top, right, bottom = draw.textbbox((x0, y0), label, font=font)
            lift = bottom - top + 2 * line
            ty = y0 - lift if y0 - lift >= 0 else y1
            draw.rectangle((x0, ty, x0 + right - left + 2 * line, ty + lift), fill=BOX_COLOUR)
            draw.text((x0 + line, ty + line - (top - y0)), label, fill=(255, 255, 255), font=font)
    return shown


def on_white(image: Image.Image) -> Image.Image:
    """``image`` as RGB with any transparency on white paper: a canvas drawing reads the same on a dark theme."""
    if "A" not in image.getbands():
        return image.convert("RGB")
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, image.convert("RGBA")).convert("RGB")
