"""ui.charts: the pictures and plots the pages show."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ui.charts import BOX_COLOUR, DISPLAY_SIDE, draw_boxes, probability_bars


def _red(image: Image.Image) -> np.ndarray:
    return np.all(np.asarray(image) == BOX_COLOUR, axis=-1)


def test_boxes_measured_on_the_full_file_land_on_a_photo_decoded_reduced():
    full = (4000, 3000)  # a 12 MP photo; the JPEG is decoded at a quarter of its size
    photo = Image.new("RGB", (1000, 750), "white")
    box = (3000, 2000, 400, 400)  # where the reader found the digit, in the file's pixels
    shown = draw_boxes(photo, [(box, "")], size=full)
    scale = DISPLAY_SIDE / full[0]
    ys, xs = np.nonzero(_red(shown))
    assert xs.min() == round(box[0] * scale) and ys.min() == round(box[1] * scale)
    assert xs.max() <= round((box[0] + box[2]) * scale) + 2


def test_boxes_default_to_the_photo_own_pixels():
    photo = Image.new("RGB", (400, 300), "white")
    ys, xs = np.nonzero(_red(draw_boxes(photo, [((100, 50, 40, 40), "")])))
    assert (xs.min(), ys.min()) == (100, 50)


def test_probability_bars_write_confidence_as_everywhere_else():
    probabilities = np.array([0.99996, 0.00003, 0.02, 0, 0, 0, 0, 0, 0, 0.00001], np.float32)
    bar = probability_bars(probabilities, winner=0).data[0]
    assert bar.text[0] == ">99.9%" and bar.text[2] == "2.0%" and bar.text[1] == ""  # too short a bar to label
    assert list(bar.customdata[:2]) == [">99.9%", "<0.1%"]  # the hover's figure, not a rounded 100.00%
