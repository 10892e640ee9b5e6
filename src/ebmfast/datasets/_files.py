"""Read a user's data file (.npy, .npz or MNIST IDX, plain or gzip) into a 2-D array."""

import gzip
import io
import os
import zlib
import zipfile

import numpy as np

__all__ = ["load_array"]

_GZIP_MAGIC = b"\x1f\x8b"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
# An empty .npz (np.savez with no arrays) is a zip file with only the
# end-of-central-directory record.
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"

# IDX data type codes (the third byte of the magic number) and the NumPy dtype
# of each. The IDX format, published with the MNIST database, stores every
# size and value big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_SUPPORTED = ".npy, .npz and MNIST IDX files, each plain or gzip-compressed"


def load_array(path, *, key=None):
    """Read a numeric array from a ``.npy``, ``.npz`` or MNIST IDX file.

    The format is detected from the first bytes of the file, not from its
    name, and a gzip-compressed file (such as ``train-images-idx3-ubyte.gz``)
    is decompressed first. Pickled objects are never loaded.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    key : str, optional
        The name of the array to read from an ``.npz`` file. It may be left
        out when the file contains exactly one array. Passing it for another
        format raises ValueError.

    Returns
    -------
    array : ndarray of shape (n_samples, n_features)
        The stored values in their stored dtype (in native byte order for
        IDX files). A 1-D array becomes one column, and trailing dimensions
        are flattened row-major, so MNIST images of shape (60000, 28, 28)
        become (60000, 784).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is of an unknown format, is truncated or has the wrong
        size, contains no numeric array, or if ``key`` is missing or not found.
        The message names the path.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; pass the path of a data file.")

    with open(path, "rb") as file:
        head = file.read(len(_NPY_MAGIC))
    if not head:
        raise ValueError(f"{path}: the file is empty; expected {_SUPPORTED}.")

    # ``source`` is the path for a plain file, or the decompressed bytes.
    source = path
    if head.startswith(_GZIP_MAGIC):
        source = _gunzip(path)
        head = source[: len(_NPY_MAGIC)]

    fmt = _detect_format(head, path, compressed=source is not path)
    if key is not None and fmt != "npz":
        raise ValueError(
            f"{path}: key={key!r} was given, but the file is {fmt.upper()} data, "
            "not an .npz archive; leave the key out."
        )

    if fmt == "npy":
        array = _load_npy(source, path)
    elif fmt == "npz":
        array = _load_npz(source, path, key)
    else:
        if isinstance(source, str):
            with open(path, "rb") as file:
                source = file.read()
        array = _parse_idx(source, path)

    return _as_2d(array, path)


def _gunzip(path):
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except EOFError as exc:
        raise ValueError(f"{path}: the gzip data is truncated ({exc}).") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: the gzip data is corrupt ({exc}).") from exc


def _detect_format(head, path, *, compressed):
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        return "npz"
    # An IDX file starts with two zero bytes, the type code and the number of
    # dimensions. Any other file that starts with two zero bytes is reported
    # as an unknown IDX type code, which names what was found.
    if len(head) >= 4 and head[0] == 0 and head[1] == 0 and head[3] >= 1:
        return "idx"
    context = "after gzip decompression, " if compressed else ""
    raise ValueError(
        f"{path}: unknown file format ({context}the first bytes are "
        f"{head[:4].hex(' ')}); load_array reads {_SUPPORTED}."
    )


def _load_npy(source, path):
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return np.load(source, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read the .npy data: {exc}") from exc


def _load_npz(source, path, key):
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        archive = np.load(source, allow_pickle=False)
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read the .npz archive: {exc}") from exc

    with archive:
        keys = list(archive.files)
        if key is None:
            if len(keys) != 1:
                raise ValueError(_npz_key_message(path, keys))
            key = keys[0]
        elif key not in keys:
            raise ValueError(
                f"{path}: the .npz archive has no array {key!r}; "
                f"its arrays are: {_format_keys(keys)}."
            )
        try:
            return archive[key]
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError(
                f"{path}: cannot read array {key!r} from the .npz archive: {exc}"
            ) from exc


def _npz_key_message(path, keys):
    if not keys:
        return f"{path}: the .npz archive contains no arrays."
    return (
        f"{path}: the .npz archive contains {len(keys)} arrays "
        f"({_format_keys(keys)}); choose one with key=NAME."
    )


def _format_keys(keys):
    return ", ".join(repr(k) for k in keys) if keys else "none"


def _parse_idx(data, path):
    """Parse the bytes of an IDX file: a 4-byte magic number, big-endian uint32
    sizes, then the values in row-major order."""
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        supported = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise ValueError(
            f"{path}: unknown IDX data type code 0x{type_code:02X} "
            f"(supported codes: {supported}), or not an IDX file."
        )
    dtype = _IDX_DTYPES[type_code]

    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(
            f"{path}: truncated IDX header: {ndim} dimensions need a "
            f"{header_size}-byte header, but the file has {len(data)} bytes."
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", ndim, offset=4))

    n_values = 1
    for size in shape:
        n_values *= size
    expected = n_values * dtype.itemsize
    found = len(data) - header_size
    if found < expected:
        raise ValueError(
            f"{path}: truncated IDX file: shape {shape} of {dtype.name} needs "
            f"{expected} bytes of data after the header, but only {found} remain."
        )
    if found > expected:
        raise ValueError(
            f"{path}: wrong IDX file size: shape {shape} of {dtype.name} needs "
            f"{expected} bytes of data after the header, but {found} remain."
        )

    values = np.frombuffer(data, dtype, n_values, offset=header_size)
    # astype to the native byte order also copies, so the result is writable.
    return values.astype(dtype.newbyteorder("=")).reshape(shape)


def _as_2d(array, path):
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: the array has dtype {array.dtype}, but a numeric "
            "(bool, integer or floating) array is needed."
        )
    if array.ndim == 0:
        raise ValueError(
            f"{path}: the file contains a single value, but an array of shape "
            "(n_samples, ...) is needed."
        )
    n_features = 1
    for size in array.shape[1:]:
        n_features *= size
    return array.reshape(array.shape[0], n_features)
