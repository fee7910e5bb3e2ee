"""A webcam's view of a piece of paper held up and moved: frames made from a generated photo, and a y4m file.

Chromium plays such a file as the camera with ``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE.y4m`` (looping it), so a browser test or benchmark sees a
number that drifts, tilts and comes nearer and farther, as a hand holds it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synth.photos import TABLE, compose_number, photograph

FRAME_SIZE = (640, 480)  # (width, height): a common webcam mode
FPS = 15  # frames per second of the file; Chromium plays it at this rate
PAPER_SIZE = (800, 600)  # (width, height) of the photo the sheet is made from, in frame pixels
DIGIT_SHARE = 0.2  # a digit's height, share of the sheet's height
TILT_DEG = 8.0  # the sheet rocks between -8 and +8 degrees ...
DRIFT = (60.0, 35.0)  # ... and drifts this far (x, y, frame pixels) from the centre ...
ZOOM = (0.9, 1.1)  # ... and comes nearer and farther within this range
PERIOD_S = 4.0  # one full cycle of the motion; the file is one cycle, so its loop is seamless


def paper_frames(
    digits: list[np.ndarray], rng: np.random.Generator, seconds: float = PERIOD_S, fps: int = FPS
) -> list[np.ndarray]:
    """Frames of a sheet with a number on it, moving and tilting in front of a table.

    Args:
        digits: MNIST digits ``uint8 (28, 28)`` written on the sheet, left to right.
        rng: Random generator (the digits' spacing, the paper's light and noise).
        seconds: Length of the clip.
        fps: Frames per second.

    Returns:
        ``uint8 (H, W, 3)`` RGB frames of :data:`FRAME_SIZE`.
    """
    sheet, _ = photograph(compose_number(digits, rng), "clean", rng, DIGIT_SHARE, PAPER_SIZE)
    width, height = FRAME_SIZE
    pad = max(FRAME_SIZE) // 2  # the number lands anywhere on the sheet: more paper around it, as when held close
    sheet = cv2.copyMakeBorder(sheet, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    ys, xs = np.nonzero(sheet.min(axis=2) < sheet.max() // 2)  # the ink: the motion keeps the number near the centre
    centre = np.float32([(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2])
    frames = []
    for i in range(round(seconds * fps)):
        phase = 2 * np.pi * i / (PERIOD_S * fps)
        angle = TILT_DEG * np.sin(phase)
        zoom = (ZOOM[0] + ZOOM[1]) / 2 + (ZOOM[1] - ZOOM[0]) / 2 * np.sin(2 * phase)
        matrix = cv2.getRotationMatrix2D(tuple(centre.tolist()), angle, zoom)
        matrix[:, 2] += [
            width / 2 + DRIFT[0] * np.cos(phase) - centre[0],
            height / 2 + DRIFT[1] * np.sin(phase) - centre[1],
        ]
        frame = cv2.warpAffine(sheet, matrix, FRAME_SIZE, flags=cv2.INTER_LINEAR, borderValue=TABLE)
        frames.append(frame)
    return frames


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """Writes RGB frames as an uncompressed YUV 4:2:0 ``.y4m`` file, the format Chromium's fake camera plays.

    Args:
        path: Where to write (a temporary folder: a few seconds are tens of MB).
        frames: ``uint8 (H, W, 3)`` RGB frames, all the same even size.
        fps: Frames per second written in the header.

    Returns:
        ``path``.
    """
    height, width = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())  # Y, then U, then V planes
    return path
