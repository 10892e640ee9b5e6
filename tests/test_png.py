"""Tests of the PNG writer and the image grid in ebmfast._png."""

import struct
import zlib

import numpy as np
import pytest

from ebmfast._png import encode_png, tile_images, write_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_gray8_png(data):
    """Decode an 8-bit grayscale, non-interlaced PNG into a uint8 array.

    Checks the signature, every chunk CRC and the IHDR fields, and handles
    only filter type 0 (the only one encode_png writes).
    """
    assert data[:8] == PNG_SIGNATURE
    position = 8
    chunks = []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        chunk_type = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(chunk_type + body), f"bad CRC in {chunk_type!r}"
        chunks.append((chunk_type, body))
        position += 12 + length

    assert chunks[0][0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1])
    assert (depth, colour, compression, filtering, interlace) == (8, 0, 0, 0, 0)

    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all(), "decoder handles filter type 0 only"
    return rows[:, 1:].copy()


def test_encode_uint8_round_trip():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(13, 29), dtype=np.uint8)

    decoded = decode_gray8_png(encode_png(image))

    assert decoded.shape == (13, 29)
    np.testing.assert_array_equal(decoded, image)


def test_encode_float_levels():
    image = np.array([[0.0, 0.5, 1.0], [0.25, 1 / 255, 0.999]])

    decoded = decode_gray8_png(encode_png(image))

    expected = np.array([[0, 128, 255], [64, 1, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(decoded, expected)


def test_encode_clips_out_of_range():
    image = np.array([[-0.5, 1.5, 1.0000001]])

    decoded = decode_gray8_png(encode_png(image))

    np.testing.assert_array_equal(decoded, [[0, 255, 255]])


def test_encode_single_pixel():
    decoded = decode_gray8_png(encode_png(np.ones((1, 1))))

    np.testing.assert_array_equal(decoded, [[255]])


def test_encode_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        encode_png(np.array([[0.0, np.nan]]))


@pytest.mark.parametrize("shape", [(4,), (2, 3, 1)])
def test_encode_rejects_non_2d(shape):
    with pytest.raises(ValueError, match="2-D"):
        encode_png(np.zeros(shape))


def test_encode_rejects_empty():
    with pytest.raises(ValueError, match="no pixels"):
        encode_png(np.zeros((0, 5)))


def test_write_png_file_matches_encoding(tmp_path):
    image = np.linspace(0, 1, 40).reshape(5, 8)
    path = tmp_path / "ramp.png"

    write_png(path, image)

    data = path.read_bytes()
    assert data == encode_png(image)
    np.testing.assert_array_equal(decode_gray8_png(data), np.rint(image * 255))


def test_write_png_pillow_reads_same_pixels(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(17, 9), dtype=np.uint8)
    path = tmp_path / "random.png"

    write_png(path, image)

    with image_module.open(path) as opened:
        assert opened.mode == "L"
        assert opened.size == (9, 17)
        np.testing.assert_array_equal(np.asarray(opened), image)


def test_tile_grid_shape_and_placement():
    images = np.arange(5 * 6, dtype=np.float64).reshape(5, 6) / 100

    grid = tile_images(images, (2, 3), n_cols=3, padding=1, normalize=None, pad_value=1.0)

    # 2 rows of 2-pixel tiles plus 1 padding line; 3 columns of 3 pixels plus 2.
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_array_equal(grid[0:2, 0:3], images[0].reshape(2, 3))
    np.testing.assert_array_equal(grid[0:2, 8:11], images[2].reshape(2, 3))
    np.testing.assert_array_equal(grid[3:5, 4:7], images[4].reshape(2, 3))
    assert (grid[2, :] == 1.0).all()
    assert (grid[:, 3] == 1.0).all()
    # The sixth tile position is unused and keeps the padding value.
    assert (grid[3:5, 8:11] == 1.0).all()


def test_tile_default_columns_square():
    grid = tile_images(np.zeros((10, 4)), (2, 2), padding=0, normalize=None)

    # ceil(sqrt(10)) = 4 columns and so 3 rows.
    assert grid.shape == (3 * 2, 4 * 2)


def test_tile_columns_capped_at_image_count():
    grid = tile_images(np.zeros((2, 4)), (2, 2), n_cols=10, padding=0, normalize=None)

    assert grid.shape == (2, 4)


def test_tile_scale_nearest_neighbour():
    image = np.array([[0.0, 0.2, 0.4, 0.6]])

    grid = tile_images(image, (2, 2), scale=3, normalize=None)

    expected = np.kron(image.reshape(2, 2), np.ones((3, 3)))
    np.testing.assert_array_equal(grid, expected)


def test_tile_padding_not_scaled():
    grid = tile_images(np.zeros((2, 4)), (2, 2), n_cols=2, padding=2, scale=4,
                       normalize=None, pad_value=0.5)

    assert grid.shape == (8, 4 * 2 + 2 + 4 * 2)
    assert (grid[:, 8:10] == 0.5).all()


def test_tile_normalize_each():
    images = np.array([[-2.0, 0.0, 2.0, 6.0], [10.0, 11.0, 12.0, 14.0]])

    grid = tile_images(images, (1, 4), n_cols=1, padding=0, normalize="each")

    np.testing.assert_allclose(grid[0], [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(grid[1], [0.0, 0.25, 0.5, 1.0])


def test_tile_normalize_global():
    images = np.array([[0.0, 2.0], [4.0, 8.0]])

    grid = tile_images(images, (1, 2), n_cols=1, padding=0, normalize="global")

    np.testing.assert_allclose(grid, [[0.0, 0.25], [0.5, 1.0]])


def test_tile_constant_image_mid_gray():
    images = np.array([[3.0, 3.0], [0.0, 1.0]])

    grid = tile_images(images, (1, 2), n_cols=1, padding=0, normalize="each")

    np.testing.assert_array_equal(grid[0], [0.5, 0.5])
    np.testing.assert_array_equal(grid[1], [0.0, 1.0])


def test_tile_then_encode_decodes():
    rng = np.random.default_rng(2)
    weights = rng.normal(size=(7, 64))
    grid = tile_images(weights, (8, 8), scale=2)

    decoded = decode_gray8_png(encode_png(grid))

    # 7 filters make 3 columns and 3 rows of 16-pixel tiles, 1-pixel padding.
    assert decoded.shape == (3 * 16 + 2, 3 * 16 + 2)
    np.testing.assert_array_equal(decoded, np.rint(grid * 255))


def test_tile_rejects_size_mismatch():
    with pytest.raises(ValueError, match=r"shape \(n_images, 64\)"):
        tile_images(np.zeros((3, 63)), (8, 8))


def test_tile_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        tile_images(np.zeros((0, 4)), (2, 2))


def test_tile_rejects_bad_normalize():
    with pytest.raises(ValueError, match="normalize"):
        tile_images(np.zeros((1, 4)), (2, 2), normalize="local")


@pytest.mark.parametrize("name, kwargs", [
    ("n_cols", {"n_cols": 0}),
    ("padding", {"padding": -1}),
    ("scale", {"scale": 0}),
])
def test_tile_rejects_bad_counts(name, kwargs):
    with pytest.raises(ValueError, match=name):
        tile_images(np.zeros((1, 4)), (2, 2), **kwargs)


def test_tile_rejects_float_scale():
    with pytest.raises(TypeError, match="scale"):
        tile_images(np.zeros((1, 4)), (2, 2), scale=2.5)

