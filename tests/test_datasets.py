"""Tests of the bundled digits and of load_array for .npy, .npz and IDX files."""

import gzip
import struct

import numpy as np
import pytest

from ebmfast.datasets import load_array, load_digits

# IDX data type code of each NumPy dtype, as the IDX format defines them.
IDX_CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype("i2"): 0x0B,
    np.dtype("i4"): 0x0C,
    np.dtype("f4"): 0x0D,
    np.dtype("f8"): 0x0E,
}


def idx_bytes(array, code=None):
    """Encode ``array`` as an IDX file: magic, big-endian sizes, big-endian values."""
    array = np.asarray(array)
    if code is None:
        code = IDX_CODES[array.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# load_digits


def test_digits_scaled():
    images, labels = load_digits()

    assert images.shape == (1797, 64)
    assert images.dtype == np.float64
    assert images.min() == 0.0
    assert images.max() == 1.0
    # Every value is a pixel count 0..16 divided by 16.
    np.testing.assert_array_equal(images * 16, np.rint(images * 16))
    assert labels.shape == (1797,)
    assert labels.dtype == np.uint8


def test_digits_raw_counts():
    raw, labels = load_digits(scale=False)
    scaled, _ = load_digits()

    assert raw.dtype == np.uint8
    assert raw.shape == (1797, 64)
    assert raw.max() == 16
    np.testing.assert_array_equal(scaled, raw / 16.0)
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))


def test_digits_new_arrays_each_call():
    images, labels = load_digits()
    images[:] = -1.0
    labels[:] = 99

    again, labels_again = load_digits()

    assert again.min() == 0.0
    assert labels_again.max() == 9


def test_digits_row_major_order():
    # The first image shows a 0, and its top row is known from the source
    # data, so a transposed or shuffled conversion would fail here.
    images, labels = load_digits(scale=False)
    first = images[0].reshape(8, 8)

    np.testing.assert_array_equal(labels[:10], np.arange(10))
    np.testing.assert_array_equal(first[0], [0, 0, 5, 13, 9, 1, 0, 0])
    np.testing.assert_array_equal(first[3], [0, 4, 12, 0, 0, 8, 8, 0])


# load_array: .npy


def test_npy_2d_unchanged(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "data.npy"
    np.save(path, array)

    loaded = load_array(path)

    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, array)


def test_npy_trailing_dims_flattened(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images.npy"
    np.save(path, array)

    loaded = load_array(str(path))

    assert loaded.shape == (2, 12)
    np.testing.assert_array_equal(loaded, array.reshape(2, 12))


def test_npy_1d_becomes_column(tmp_path):
    path = tmp_path / "vector.npy"
    np.save(path, np.array([1.0, 2.0, 3.0]))

    loaded = load_array(path)

    assert loaded.shape == (3, 1)


def test_npy_zero_rows(tmp_path):
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, 5, 5)))

    assert load_array(path).shape == (0, 25)


def test_npy_pickle_rejected(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)

    with pytest.raises(ValueError, match="objects.npy") as info:
        load_array(path)

    assert "allow_pickle" in str(info.value)


def test_npy_text_dtype_rejected(tmp_path):
    path = tmp_path / "words.npy"
    np.save(path, np.array([["a", "b"]]))

    with pytest.raises(ValueError, match="numeric"):
        load_array(path)


def test_npy_scalar_rejected(tmp_path):
    path = tmp_path / "scalar.npy"
    np.save(path, np.float64(3.0))

    with pytest.raises(ValueError, match="single value"):
        load_array(path)


def test_npy_truncated(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.zeros((100, 10)))
    path.write_bytes(path.read_bytes()[:-40])

    with pytest.raises(ValueError, match="cut.npy"):
        load_array(path)


def test_npy_gzip(tmp_path):
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    plain = tmp_path / "data.npy"
    np.save(plain, array)
    packed = tmp_path / "data.npy.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    np.testing.assert_array_equal(load_array(packed), array)


def test_key_rejected_for_npy(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.zeros((2, 2)))

    with pytest.raises(ValueError, match="not an .npz archive"):
        load_array(path, key="x")


# load_array: .npz


def test_npz_single_array_without_key(tmp_path):
    path = tmp_path / "one.npz"
    np.savez(path, pixels=np.ones((4, 2, 2)))

    loaded = load_array(path)

    assert loaded.shape == (4, 4)


def test_npz_key_selects_array(tmp_path):
    path = tmp_path / "two.npz"
    np.savez_compressed(path, images=np.ones((3, 5)), labels=np.arange(3))

    images = load_array(path, key="images")
    labels = load_array(path, key="labels")

    assert images.shape == (3, 5)
    assert labels.shape == (3, 1)


def test_npz_several_arrays_need_key(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, images=np.ones((3, 5)), labels=np.arange(3))

    with pytest.raises(ValueError, match="key=") as info:
        load_array(path)

    message = str(info.value)
    assert "two.npz" in message
    assert "'images'" in message
    assert "'labels'" in message


def test_npz_unknown_key_lists_keys(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, images=np.ones((3, 5)), labels=np.arange(3))

    with pytest.raises(ValueError, match="no array 'pixels'") as info:
        load_array(path, key="pixels")

    assert "'images', 'labels'" in str(info.value)


def test_npz_empty(tmp_path):
    path = tmp_path / "none.npz"
    np.savez(path)

    with pytest.raises(ValueError, match="contains no arrays"):
        load_array(path)


def test_npz_pickle_rejected(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, things=np.array([None, 1], dtype=object))

    with pytest.raises(ValueError, match="objects.npz") as info:
        load_array(path)

    assert "allow_pickle" in str(info.value)


def test_npz_corrupt(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 30)

    with pytest.raises(ValueError, match="broken.npz"):
        load_array(path)


# load_array: IDX


@pytest.mark.parametrize("idx_dtype", list(IDX_CODES), ids=lambda d: d.name)
def test_idx_every_dtype(tmp_path, idx_dtype):
    # Small negative and positive values, except for uint8, which has no sign.
    values = np.arange(12) * 20 if idx_dtype == np.uint8 else np.arange(12) - 5
    array = values.astype(idx_dtype).reshape(3, 2, 2)
    path = tmp_path / "data-idx3"
    path.write_bytes(idx_bytes(array))

    loaded = load_array(path)

    assert loaded.dtype == idx_dtype
    assert loaded.dtype.isnative
    assert loaded.shape == (3, 4)
    np.testing.assert_array_equal(loaded, array.reshape(3, 4))


def test_idx_big_endian_order(tmp_path):
    path = tmp_path / "ints-idx1"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 2) + struct.pack(">ii", 1, -2))

    np.testing.assert_array_equal(load_array(path), [[1], [-2]])


def test_idx_mnist_like_gzip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))

    loaded = load_array(path)

    assert loaded.shape == (5, 784)
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, images.reshape(5, 784))
    assert loaded.flags.writeable


def test_idx_labels_become_column(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.array([7, 2, 1], dtype=np.uint8)))

    np.testing.assert_array_equal(load_array(path), [[7], [2], [1]])


def test_idx_truncated_data(tmp_path):
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((4, 3, 3), dtype=np.uint8))[:-1])

    with pytest.raises(ValueError, match="truncated IDX file") as info:
        load_array(path)

    message = str(info.value)
    assert "cut-idx3-ubyte" in message
    assert "36 bytes" in message
    assert "35 remain" in message


def test_idx_truncated_header(tmp_path):
    path = tmp_path / "header-idx3"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">I", 10))

    with pytest.raises(ValueError, match="truncated IDX header"):
        load_array(path)


def test_idx_trailing_bytes(tmp_path):
    path = tmp_path / "long-idx1"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00\x00")

    with pytest.raises(ValueError, match="wrong IDX file size"):
        load_array(path)


def test_idx_unknown_type_code(tmp_path):
    path = tmp_path / "odd-idx1"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00")

    with pytest.raises(ValueError, match="unknown IDX data type code 0x07"):
        load_array(path)


def test_idx_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    packed = gzip.compress(idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8)))
    path.write_bytes(packed[: len(packed) // 2])

    with pytest.raises(ValueError, match="gzip data is truncated"):
        load_array(path)


# load_array: other failures


def test_missing_file(tmp_path):
    path = tmp_path / "absent.npy"

    with pytest.raises(FileNotFoundError, match="data file not found") as info:
        load_array(path)

    assert str(path) in str(info.value)


def test_folder_rejected(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load_array(tmp_path)


def test_unknown_format(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("1,2,3\n4,5,6\n")

    with pytest.raises(ValueError, match="unknown file format") as info:
        load_array(path)

    message = str(info.value)
    assert "table.csv" in message
    assert ".npy, .npz and MNIST IDX" in message


def test_unknown_format_inside_gzip(tmp_path):
    path = tmp_path / "table.csv.gz"
    path.write_bytes(gzip.compress(b"1,2,3\n"))

    with pytest.raises(ValueError, match="after gzip decompression"):
        load_array(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npy"
    path.write_bytes(b"")

    with pytest.raises(ValueError, match="empty"):
        load_array(path)
