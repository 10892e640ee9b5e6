"""Grayscale PNG output and image grids, with only NumPy and the standard library.

``tile_images`` arranges flattened images (data, samples or weight filters)
into one grid, and ``write_png`` stores a 2-D array as an 8-bit grayscale PNG.
"""

import math
import struct
import zlib

import numpy as np

__all__ = ["encode_png", "tile_images", "write_png"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# IHDR fields after width and height: bit depth 8, colour type 0 (grayscale),
# deflate compression, adaptive filtering, no interlacing.
_GRAY8_HEADER_TAIL = struct.pack(">BBBBB", 8, 0, 0, 0, 0)
# The PNG specification caps width and height at 2**31 - 1.
_MAX_SIDE = 2**31 - 1
_NORMALIZE_MODES = ("each", "global", None)


def encode_png(image):
    """Encode a 2-D image as the bytes of an 8-bit grayscale PNG file.

    Parameters
    ----------
    image : array-like of shape (height, width)
        A uint8 array is stored unchanged. Any other numeric array is read as
        intensities in [0, 1] (0 black, 1 white): values are clipped to that
        range and rounded to the nearest of the 256 levels.

    Returns
    -------
    data : bytes

    Raises
    ------
    ValueError
        If the image is not 2-D, has no pixels, or contains NaN.
    """
    pixels = _to_uint8(image)
    height, width = pixels.shape

    # Each scanline starts with its filter type, and type 0 means "none".
    scanlines = np.zeros((height, width + 1), dtype=np.uint8)
    scanlines[:, 1:] = pixels
    header = struct.pack(">II", width, height) + _GRAY8_HEADER_TAIL

    return b"".join([
        _PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 9)),
        _chunk(b"IEND", b""),
    ])


def write_png(path, image):
    """Write a 2-D image to ``path`` as an 8-bit grayscale PNG file.

    ``image`` follows the rules of :func:`encode_png`: uint8 is stored as is,
    any other numeric dtype is clipped to [0, 1] and scaled to 0..255.
    """
    data = encode_png(image)
    with open(path, "wb") as file:
        file.write(data)


def tile_images(images, image_shape, n_cols=None, padding=1, scale=1,
                normalize="each", pad_value=0.5):
    """Arrange flattened images into one grid image.

    Parameters
    ----------
    images : array-like of shape (n_images, height * width)
        One image per row, flattened row-major.
    image_shape : tuple of (int, int)
        The (height, width) of each image.
    n_cols : int, optional
        Number of tiles per grid row, at most n_images. The default is
        ceil(sqrt(n_images)).
    padding : int, default 1
        Width in output pixels of the lines between tiles. Padding is not
        upscaled by ``scale``.
    scale : int, default 1
        Integer factor by which each tile is enlarged with nearest-neighbour
        sampling, so that small images such as 8x8 digits stay visible.
    normalize : {"each", "global", None}, default "each"
        "each" maps every image's own min..max to [0, 1], which suits weight
        filters. "global" maps the min..max of all images to [0, 1]. None
        keeps the values as they are (``write_png`` clips them to [0, 1]).
        An image with no range to stretch becomes 0.5 everywhere.
    pad_value : float, default 0.5
        Intensity in [0, 1] of the padding and of unused tiles in the last row.

    Returns
    -------
    grid : ndarray of shape (n_rows * height * scale + (n_rows - 1) * padding,
        n_cols * width * scale + (n_cols - 1) * padding), dtype float64
    """
    height, width = _check_shape(image_shape)
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[1] != height * width:
        raise ValueError(
            f"images must have shape (n_images, {height * width}) for "
            f"image_shape {(height, width)}, got shape {images.shape}."
        )
    n_images = images.shape[0]
    if n_images == 0:
        raise ValueError("images is empty, but at least one image is needed.")

    if n_cols is None:
        n_cols = math.ceil(math.sqrt(n_images))
    n_cols = _check_count(n_cols, "n_cols", minimum=1)
    padding = _check_count(padding, "padding", minimum=0)
    scale = _check_count(scale, "scale", minimum=1)
    if normalize not in _NORMALIZE_MODES:
        raise ValueError(
            f"normalize must be one of {_NORMALIZE_MODES}, got {normalize!r}."
        )
    if not 0.0 <= pad_value <= 1.0:
        raise ValueError(f"pad_value must be in [0, 1], got {pad_value}.")

    n_cols = min(n_cols, n_images)
    n_rows = math.ceil(n_images / n_cols)
    tiles = _normalize(images, normalize).reshape(n_images, height, width)
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    tile_height, tile_width = height * scale, width * scale

    grid = np.full(
        (n_rows * tile_height + (n_rows - 1) * padding,
         n_cols * tile_width + (n_cols - 1) * padding),
        pad_value,
        dtype=np.float64,
    )
    for index in range(n_images):
        row, col = divmod(index, n_cols)
        top = row * (tile_height + padding)
        left = col * (tile_width + padding)
        grid[top:top + tile_height, left:left + tile_width] = tiles[index]
    return grid


def _normalize(images, mode):
    if mode is None:
        return images
    if mode == "global":
        low, high = images.min(), images.max()
    else:
        low = images.min(axis=1, keepdims=True)
        high = images.max(axis=1, keepdims=True)
    span = high - low
    constant = span == 0
    # A constant image has no range to stretch, so it is shown as mid gray.
    scaled = (images - low) / np.where(constant, 1.0, span)
    return np.where(constant, 0.5, scaled)


def _to_uint8(image):
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (height, width), got shape {image.shape}.")
    height, width = image.shape
    if height == 0 or width == 0:
        raise ValueError(f"image has no pixels (shape {image.shape}), but PNG needs at least 1x1.")
    if height > _MAX_SIDE or width > _MAX_SIDE:
        raise ValueError(f"image shape {image.shape} exceeds the PNG maximum side of {_MAX_SIDE}.")
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind not in "biuf":
        raise ValueError(f"image must be numeric, got dtype {image.dtype}.")

    values = image.astype(np.float64)
    if np.isnan(values).any():
        raise ValueError("image contains NaN, but intensities must be numbers in [0, 1].")
    return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def _chunk(chunk_type, data):
    # The CRC covers the chunk type and data, not the length field.
    crc = zlib.crc32(data, zlib.crc32(chunk_type))
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def _check_shape(image_shape):
    try:
        height, width = image_shape
    except (TypeError, ValueError):
        raise ValueError(
            f"image_shape must be a pair (height, width), got {image_shape!r}."
        ) from None
    return (_check_count(height, "image height", minimum=1),
            _check_count(width, "image width", minimum=1))


def _check_count(value, name, *, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)
