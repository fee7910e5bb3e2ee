import gzip

import numpy as np
import pytest

from hdr.training import data
from hdr.training.data import DataError


def _write_idx(path, array: np.ndarray, magic: int | None = None, gz: bool = True) -> None:
    magic = magic if magic is not None else 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(raw)


@pytest.fixture()
def idx_folder(tmp_path, rng):
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(12) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(5),
    }
    for stem, arr in arrays.items():
        _write_idx(tmp_path / f"{stem}.gz", arr)
    return tmp_path, arrays


def test_load_mnist_reads_idx_folder(idx_folder):
    folder, arrays = idx_folder
    m = data.load_mnist(folder)
    np.testing.assert_array_equal(m.x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(m.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert m.x_train.dtype == np.uint8 and m.y_train.dtype == np.int64


def test_load_mnist_uses_env_var(idx_folder, monkeypatch):
    folder, _ = idx_folder
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    assert len(data.load_mnist().x_test) == 5


def test_failed_download_is_a_one_line_data_error(monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://example/mnist.npz: None -- [Errno -2] Name or service not known")

    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(
        data.DataError, match=r"^MNIST could not be downloaded \(URL fetch failure.*--data-dir or HDR_DATA_DIR$"
    ):
        data.load_mnist()


def test_load_mnist_reads_npz(tmp_path, rng):
    x = rng.integers(0, 256, (4, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.arange(4), x_test=x[:2], y_test=np.arange(2))
    m = data.load_mnist(tmp_path)
    assert m.x_train.shape == (4, 28, 28) and list(m.y_test) == [0, 1]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: _write_idx(f / "train-labels-idx1-ubyte.gz", np.arange(12), magic=0x0999), "wrong magic number"),
        (
            lambda f: (f / "t10k-images-idx3-ubyte.gz").write_bytes(
                gzip.compress(
                    (0x0803).to_bytes(4, "big") + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\0" * 100
                )
            ),
            "size mismatch",
        ),
        (lambda f: (f / "train-images-idx3-ubyte.gz").unlink(), "missing train-images-idx3-ubyte.gz"),
        (lambda f: _write_idx(f / "train-labels-idx1-ubyte.gz", np.arange(11) % 10), "12 images but 11 labels"),
        (lambda f: _write_idx(f / "train-labels-idx1-ubyte.gz", np.full(12, 12)), "labels must be 0-9"),
        (lambda f: (f / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all"), "cannot read IDX file"),
    ],
)
def test_bad_idx_files_give_one_line_errors_naming_the_file(idx_folder, mutate, message):
    folder, _ = idx_folder
    mutate(folder)
    with pytest.raises(DataError, match=message) as err:
        data.load_mnist(folder)
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        data.load_mnist(tmp_path / "nope")


def test_real_mnist_matches_its_readme(mnist):
    """The checks ../shared/mnist/README.md gives for the real files."""
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert list(mnist.y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(mnist.y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(mnist.y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.x_train.mean() / 255 == pytest.approx(0.1307, abs=1e-4)


def _csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


PIXELS = [f"pixel{i}" for i in range(784)]


def test_load_csv_labelled_and_unlabelled(tmp_path):
    rows = [[3] + [0] * 783 + [255], [7] + [1] * 784]
    x, y = data.load_csv(_csv(tmp_path / "train.csv", ["label", *PIXELS], rows))
    assert x.shape == (2, 28, 28) and list(y) == [3, 7] and x[0, 27, 27] == 255
    x, y = data.load_csv(_csv(tmp_path / "test.csv", PIXELS, [[0] * 784]))
    assert x.shape == (1, 28, 28) and y is None


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (["label", *PIXELS[:-1]], [1] + [0] * 783, "missing 1 of the 784 pixel columns \\(first: pixel783\\)"),
        (["label", *PIXELS], [1] + [0] * 783 + [300], "pixel out of range 0-255 at data row 1, column pixel783"),
        (["label", *PIXELS], [11] + [0] * 784, "labels must be 0-9"),
        (["label", *PIXELS], ["x"] + [0] * 784, "non-numeric"),
        (["a", "b"], [1, 2], "not a Kaggle digits CSV: its 2 column\\(s\\) are 'a,b'"),
    ],
)
def test_bad_csv_gives_one_line_error(tmp_path, header, row, message):
    with pytest.raises(DataError, match=message) as err:
        data.load_csv(_csv(tmp_path / "bad.csv", header, [row]))
    assert "bad.csv" in str(err.value)


def test_load_csv_from_bytes_names_the_upload_only_as_a_label(tmp_path):
    rows = [[3] + [0] * 784]
    content = _csv(tmp_path / "train.csv", ["label", *PIXELS], rows).read_bytes()
    x, y = data.load_csv(content, name="../../x.csv")
    assert x.shape == (1, 28, 28) and list(y) == [3]
    with pytest.raises(DataError, match=r"^my\.csv: not a text CSV"):
        data.load_csv(b"\xff\xfe\x00garbage", name="my.csv")
    with pytest.raises(DataError, match=r"^CSV: empty CSV file"):
        data.load_csv(b"")


def test_empty_csv(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="empty CSV"):
        data.load_csv(tmp_path / "e.csv")


def test_load_image_folder_preprocesses_each_image(tmp_path, mnist):
    from PIL import Image

    for i in range(6):
        label = int(mnist.y_test[i])
        (tmp_path / str(label)).mkdir(exist_ok=True)
        Image.fromarray(255 - mnist.x_test[i]).resize((112, 112)).save(tmp_path / str(label) / f"{i}.png")
    (tmp_path / "3").mkdir(exist_ok=True)
    (tmp_path / "3" / "notes.txt").write_text("ignored")
    x, y = data.load_image_folder(tmp_path)
    assert x.shape == (6, 28, 28) and sorted(y) == sorted(mnist.y_test[:6])


def test_split_validation_is_stratified_and_reproducible():
    y = np.repeat(np.arange(10), 50)
    x = np.arange(500)
    a = data.split_validation(x, y, val_fraction=0.2, seed=1)
    b = data.split_validation(x, y, val_fraction=0.2, seed=1)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert list(np.bincount(a.y_val)) == [10] * 10
    assert set(a.x_train) | set(a.x_val) == set(x) and not set(a.x_train) & set(a.x_val)
    with pytest.raises(ValueError, match="val_fraction"):
        data.split_validation(x, y, val_fraction=1.5)
