import io

import cv2
import numpy as np
import pytest
from PIL import Image

from hdr.imaging import ink as ink_module
from hdr.imaging.decode import ImageError, open_image, to_gray
from hdr.imaging.degrade import degrade
from hdr.imaging.preprocess import CENTRE, Preprocessed, preprocess_many, to_mnist
from synth.canvas import STYLES, draw_digit


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, format="PNG")
    return buf.getvalue()


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images: 1 for the same picture, robust to sub-pixel shifts of thin strokes."""
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape[:2])
    w = img[..., 0] if img.ndim == 3 else img
    return float((ys * w).sum() / w.sum()), float((xs * w).sum() / w.sum())


@pytest.mark.parametrize("style", STYLES)
def test_every_canvas_style_gives_the_same_mnist_input(style):
    reference = to_mnist(draw_digit(7, style="white_on_black"))
    result = to_mnist(draw_digit(7, style=style))
    assert result.found
    np.testing.assert_allclose(result.image, reference.image, atol=0.02)


def test_output_contract():
    result = to_mnist(draw_digit(3))
    assert isinstance(result, Preprocessed)
    assert result.image.shape == (28, 28, 1) and result.image.dtype == np.float32
    assert result.image.min() >= 0.0 and result.image.max() == pytest.approx(1.0, abs=0.01)
    assert result.source_size == (280, 280)
    assert result.as_uint8().dtype == np.uint8 and result.as_uint8().max() >= 250


@pytest.mark.parametrize("digit", range(10))
def test_digit_is_centred_by_mass_and_fits_the_20px_box(digit):
    img = to_mnist(draw_digit(digit, centre=(0.3, 0.7), height=0.4)).image
    cy, cx = _centre_of_mass(img)
    assert abs(cy - CENTRE) < 0.6 and abs(cx - CENTRE) < 0.6
    rows, cols = np.nonzero(img[..., 0] > 0.1)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 22  # 20 px plus anti-aliasing


def test_off_centre_and_small_drawings_come_out_like_large_centred_ones():
    big = to_mnist(draw_digit(4, height=0.8, width=20)).image
    for variant in (dict(centre=(0.2, 0.25), height=0.3, width=8), dict(centre=(0.8, 0.8), height=0.15, width=4)):
        small = to_mnist(draw_digit(4, **variant)).image
        assert _similarity(small, big) > 0.85, variant


def test_box_locates_the_digit_in_the_source():
    result = to_mnist(draw_digit(1, centre=(0.25, 0.5), height=0.5, width=10))
    x, y, w, h = result.box
    assert 35 <= x + w / 2 <= 105 and 60 <= y <= 80 and 130 <= h <= 150


@pytest.mark.parametrize("pen", [2, 4, 12, 30, 45])
def test_thin_and_thick_strokes_come_out_mnist_wide(pen):
    from hdr.imaging.ink import INK_LEVEL, stroke_width

    img = to_mnist(draw_digit(2, width=pen)).image[..., 0]
    assert 1.5 <= stroke_width(img >= INK_LEVEL) <= 4.5  # MNIST's 10th-90th percentile is 1.7-3.2


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((280, 280, 4), np.uint8),  # the untouched transparent canvas
        np.full((280, 280, 3), 255, np.uint8),  # white paper
        np.full((100, 100), 7, np.uint8),  # uniform dark
        (np.random.default_rng(0).normal(128, 4, (200, 200))).clip(0, 255).astype(np.uint8),  # faint noise
    ],
)
def test_blank_input_is_no_digit_not_a_guess(blank):
    result = to_mnist(blank)
    assert not result.found and result.box is None and result.image.max() == 0


@pytest.mark.parametrize("grain", [0.0, 2.0])
def test_ink_barely_darker_than_clean_paper_is_a_digit(grain, mnist):
    """A very light pencil on a clean scan: the ink at most 12% darker than the paper is still read as ink."""
    digit = mnist.x_test[0].astype(np.float32) / 255  # a 7
    noise = np.random.default_rng(0).normal(0, grain, digit.shape)
    picture = np.clip(np.round(240 * (1 - 0.12 * digit) + noise), 0, 255).astype(np.uint8)
    result = to_mnist(picture)
    assert result.found and _similarity(result.image[..., 0], to_mnist(mnist.x_test[0]).image[..., 0]) > 0.9


@pytest.mark.parametrize(
    "condition", ["bold marker cropped tight, 16 px scan", "bold marker cropped tight, 16 px scan, light ink on dark"]
)
def test_a_bold_digit_filling_a_small_scan_is_read_as_ink_not_paper(condition, mnist, shipped):
    """A thick, blurred digit cropped tight and scanned at 16 px covers much of its picture: the
    paper is still found on the border, whichever of the two is dark (95 and 90 of 100 before)."""
    rng = np.random.default_rng(0)
    pictures = [degrade(mnist.x_test[i], condition, rng) for i in range(100)]
    read = [p.digit for p in shipped.predict_many(pictures)]
    assert sum(r == y for r, y in zip(read, mnist.y_test[:100], strict=True)) >= 96, read


def test_a_single_speck_is_no_digit():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100, 100] = 255
    assert not to_mnist(canvas).found


def test_mnist_digits_pass_through_almost_unchanged(mnist):
    x = mnist.x_test[:200]
    out = np.stack([to_mnist(im).as_uint8() for im in x])
    ink_in, ink_out = x > 127, out > 127
    assert (ink_in & ink_out).sum() / (ink_in | ink_out).sum() > 0.75


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda a: Image.fromarray(a[..., :3]).convert("P"), "P"),
        (lambda a: Image.fromarray(a).convert("LA"), "LA"),
        (lambda a: Image.fromarray(a[..., 0].astype(np.uint16) * 257), "I;16"),
        (lambda a: Image.fromarray(a[..., 0]).convert("1"), "1"),
        (lambda a: Image.fromarray(a[..., :3]).convert("CMYK"), "CMYK"),
    ],
)
def test_pil_modes(make, mode):
    rgba = draw_digit(5, style="white_on_black")
    img = make(rgba)
    assert img.mode == mode
    assert _similarity(to_mnist(img).image, to_mnist(rgba).image) > 0.95


def test_transparent_png_file_round_trip(tmp_path):
    path = tmp_path / "canvas.png"
    path.write_bytes(_png(draw_digit(8, style="black_on_transparent"), "RGBA"))
    assert to_mnist(path).found and to_mnist(str(path)).found and to_mnist(path.read_bytes()).found


def test_exif_orientation_is_applied(tmp_path):
    upright = draw_digit(7, style="black_on_white")[..., :3]
    stored = np.ascontiguousarray(np.rot90(upright))  # the camera stored it turned 90 degrees
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    path = tmp_path / "photo.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    assert open_image(path).image.size == open_image(path).full_size == (280, 280)
    assert _similarity(to_mnist(path).image, to_mnist(upright).image) > 0.95


def test_gray_of_arrays_of_many_dtypes():
    base = draw_digit(0, style="white_on_black")[..., 0]
    for arr in (base, base.astype(np.uint16) * 257, base.astype(np.float32) / 255, base > 127, base[..., None]):
        gray = to_gray(arr)
        assert gray.dtype == np.float32 and gray.shape == (280, 280) and gray.max() == pytest.approx(1.0)


def _truncated_png() -> bytes:
    return _png(draw_digit(1, style="black_on_white"), "RGBA")[:300]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"", "empty file"),
        (b"this is a text file, not an image", "not an image"),
        (_truncated_png(), "truncated or corrupt"),
        ("/no/such/file.png", "file not found"),
        (np.zeros((4, 4, 7)), "expected an"),
    ],
)
def test_bad_inputs_raise_one_line_image_errors(source, message):
    with pytest.raises(ImageError, match=message) as err:
        to_mnist(source)
    assert "\n" not in str(err.value)


def test_decompression_bomb_is_refused_without_decoding(tmp_path):
    # A 20000x20000 PNG: 400 megapixels, a few hundred KB on disk.
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path)
    with pytest.raises(ImageError, match="too large"):
        to_mnist(path)


def test_empty_and_folder_paths(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        to_mnist(tmp_path / "empty.png")
    with pytest.raises(ImageError, match="folder"):
        to_mnist(tmp_path)


def test_huge_jpeg_is_decoded_reduced(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (8000, 6000), "white").save(path, quality=70)
    picture = open_image(path)
    assert max(picture.image.size) <= 2048  # draft decoding: an eighth of the pixels, not 48 megapixels
    assert picture.full_size == (8000, 6000) and picture.scale == picture.image.width / 8000


@pytest.mark.parametrize("style", STYLES)
def test_flat_backgrounds_take_the_fast_path_with_the_same_result(style, monkeypatch):
    drawing = draw_digit(4, style=style, width=5)
    assert ink_module._flat_background(to_gray(drawing)) is not None
    fast = to_mnist(drawing)
    monkeypatch.setattr(ink_module, "_flat_background", lambda gray: None)  # the photo path
    np.testing.assert_allclose(fast.image, to_mnist(drawing).image, atol=1e-4)


def test_photos_with_uneven_light_are_not_flat():
    gray = to_gray(draw_digit(4, style="black_on_white", width=5))
    shaded = gray * np.linspace(0.55, 1.0, gray.shape[1], dtype=np.float32)[None, :]  # light from one side
    assert ink_module._flat_background(shaded) is None
    assert to_mnist(shaded).found


def test_preprocess_many_keeps_order_and_puts_errors_in_place(tmp_path):
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    sources = [draw_digit(1), bad, np.zeros((50, 50), np.uint8), draw_digit(0)]
    results = preprocess_many(sources)
    assert isinstance(results[1], ImageError) and "not-an-image.png" in str(results[1])
    assert [r.found for r in results if isinstance(r, Preprocessed)] == [True, False, True]
    for source, result in zip([sources[0], sources[3]], [results[0], results[3]], strict=True):
        np.testing.assert_array_equal(result.image, to_mnist(source).image)
    assert [type(r) for r in preprocess_many(sources, workers=1)] == [type(r) for r in results]


def test_ink_clear_of_the_border_is_worked_on_in_its_box_with_the_same_result(monkeypatch):
    drawings = [draw_digit(d, width=4, height=0.3, centre=(0.3, 0.6)) for d in (1, 5, 8)]
    assert all(ink_module._inner_box(to_gray(d) < 0.5) is not None for d in drawings)
    boxed = [to_mnist(d) for d in drawings]
    monkeypatch.setattr(ink_module, "_inner_box", lambda mask: None)  # the whole picture, lines and edges
    for drawing, result in zip(drawings, boxed, strict=True):
        whole = to_mnist(drawing)
        assert result.box == whole.box
        np.testing.assert_allclose(result.image, whole.image, atol=1e-6)


def test_the_faint_half_of_a_zero_survives(mnist, shipped):
    zero = mnist.x_test[3]
    assert mnist.y_test[3] == 0
    clean = to_mnist(degrade(zero, "clean", np.random.default_rng(0))).image > 0.5
    for seed in range(4):  # the faint side falls left or right
        seen = to_mnist(degrade(zero, "half faint 35%", np.random.default_rng(seed)))
        assert np.mean(seen.image[clean] > 0.2) > 0.8  # the whole ring is there, not only its dark side
        assert shipped.predict_preprocessed([seen])[0].digit == 0


@pytest.mark.parametrize("condition", ["blur sigma 2.0", "low-res 8 px, bicubic", "low-res 12 px, bilinear"])
def test_blurred_strokes_are_not_broken_into_pieces(condition, mnist):
    for i in range(20):
        digit = mnist.x_test[i]
        seen = to_mnist(degrade(digit, condition, np.random.default_rng(i))).image[..., 0]
        pieces = cv2.connectedComponents((seen > 0.3).astype(np.uint8))[0] - 1
        clean_pieces = cv2.connectedComponents((digit > 80).astype(np.uint8))[0] - 1
        assert pieces <= clean_pieces, f"test digit {i} ({mnist.y_test[i]}): {pieces} pieces, clean {clean_pieces}"


@pytest.mark.parametrize("condition", ["faint 30%", "thin pen -0.75 px", "pencil 30-100%", "blur sigma 1.5"])
def test_grey_and_thin_strokes_come_out_mnist_wide(condition, mnist):
    from hdr.imaging.ink import INK_LEVEL, stroke_width

    widths = [
        stroke_width(to_mnist(degrade(mnist.x_test[i], condition, np.random.default_rng(i))).image[..., 0] >= INK_LEVEL)
        for i in range(20)
    ]
    clean = [stroke_width(mnist.x_test[i] >= 128) for i in range(20)]
    assert np.median(widths) == pytest.approx(np.median(clean), rel=0.35), (widths, clean)


def test_hysteresis_keeps_faint_links_of_strong_ink_and_drops_faint_smudges():
    ink = np.zeros((20, 40), np.float32)
    ink[5, 2:20] = 1.0
    ink[5, 20:30] = 0.35  # a faint stretch of the same stroke
    ink[15, 2:30] = 0.35  # a smudge, faint everywhere
    kept = ink_module.hysteresis(ink >= 0.3, ink >= 0.5)
    assert kept[5, 2:30].all() and not kept[15].any()


# Ruling and grid lines ---------------------------------------------------------------------


def test_faint_grid_lines_touching_a_digit_are_not_grown_into_it(mnist):
    digit = cv2.resize(mnist.x_test[3], (280, 280), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    page = np.zeros((600, 800), np.float32)
    page[150:430, 250:530] = digit
    alone = to_mnist(np.round(245 * (1 - page)).astype(np.uint8)).image
    grid = np.zeros_like(page)
    grid[::40, :] = grid[:, ::40] = 0.3  # squared paper: thin faint lines every 40 px, through the digit
    ruled = to_mnist(np.round(245 * (1 - np.maximum(page, grid))).astype(np.uint8)).image
    assert _similarity(ruled, alone) > 0.97


def _saved_as(format_name: str) -> bytes:
    """A white 16x16 picture with a dark square, saved in ``format_name``."""
    picture = Image.new("RGB", (16, 16), "white")
    picture.paste((0, 0, 0), (4, 4, 12, 12))
    buf = io.BytesIO()
    picture.save(buf, format=format_name)
    return buf.getvalue()


ACCEPTED = [
    "PNG",
    "JPEG",
    "MPO",
    "WEBP",
    "BMP",
    "HEIF",
]  # the README's PNG, JPEG (MPO: a phone's JPEG), WebP, BMP, HEIC
REFUSED = ["AVIF", "DDS", "DIB", "EPS", "GIF", "ICNS", "ICO", "IM", "JPEG2000", "PCX", "PPM", "QOI", "SGI", "SPIDER", "TGA", "TIFF"]  # fmt: skip


@pytest.mark.parametrize("format_name", ACCEPTED)
def test_the_formats_the_readme_names_are_read(format_name):
    assert open_image(_saved_as(format_name)).image.size == (16, 16)


@pytest.mark.parametrize("format_name", REFUSED)
def test_every_other_format_is_refused_in_one_line_before_its_decoder_runs(format_name, monkeypatch):
    from PIL import EpsImagePlugin

    def no_ghostscript(*args, **kwargs):
        raise AssertionError("an EPS file reached Ghostscript")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", no_ghostscript)
    with pytest.raises(ImageError, match=r"^not an image in an accepted format \(PNG, JPEG, WebP, BMP or HEIC\)$"):
        open_image(_saved_as(format_name))


def test_memory_a_large_decode_freed_is_handed_back_to_the_system(monkeypatch):
    from hdr.imaging import decode

    trims = []
    monkeypatch.setattr(decode, "_trim_heap", lambda: trims.append(1))
    large, small = io.BytesIO(), io.BytesIO()
    Image.new("L", (2500, 2000), 255).save(large, format="PNG")  # 5 MP: decoded whole
    Image.new("L", (500, 400), 255).save(small, format="PNG")
    open_image(small.getvalue())
    assert not trims
    open_image(large.getvalue())
    assert trims == [1]
    assert decode.limit_heap_arenas() is True  # glibc, as on every machine the app is deployed to
