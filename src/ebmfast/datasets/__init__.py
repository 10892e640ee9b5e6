"""Bundled data sets and a reader for users' own array files.

``load_digits`` returns the 8x8 handwritten digits shipped with ebmfast (see
``README.md`` in this folder for their source and licence). ``load_array``
reads ``.npy``, ``.npz`` and MNIST IDX files into a 2-D array.
"""

from importlib import resources

import numpy as np

from ._files import load_array

__all__ = ["load_array", "load_digits"]

_DIGITS_FILE = "digits.npz"
# Each pixel of the digits is a count of set cells in a 4x4 block, so 0..16.
_DIGITS_MAX_COUNT = 16


def load_digits(*, scale=True):
    """Load the 1797 bundled 8x8 images of handwritten digits.

    Parameters
    ----------
    scale : bool, default True
        If True, return the pixels as float64 in [0, 1] (the counts 0..16
        divided by 16). If False, return the raw counts as uint8.

    Returns
    -------
    images : ndarray of shape (1797, 64)
        One image per row, its 8x8 pixels flattened row by row.
    labels : ndarray of shape (1797,), dtype uint8
        The digit 0..9 that each image shows.

    Each call reads the file again and returns new arrays, so changing them
    does not affect later calls.
    """
    resource = resources.files(__name__).joinpath(_DIGITS_FILE)
    with resource.open("rb") as file:
        with np.load(file, allow_pickle=False) as data:
            images = data["images"]
            labels = data["labels"]

    if scale:
        images = images.astype(np.float64) / _DIGITS_MAX_COUNT
    return images, labels
