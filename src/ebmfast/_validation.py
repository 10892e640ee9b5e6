"""Input checks shared by every model and sampler.

Each error names the parameter, the rule it broke and the value given.
"""

import numbers

import numpy as np

__all__ = [
    "check_array",
    "check_backend",
    "check_n_threads",
    "check_int",
    "check_real",
    "check_bool",
    "resolve_dtype",
]

BACKENDS = ("fast", "reference")


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_backend(backend):
    """Return ``backend`` if it is "fast" or "reference", else raise ValueError."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {BACKENDS}, got {_describe(backend)}."
        )
    return backend


def check_n_threads(n_threads):
    """Resolve ``n_threads`` to a positive thread count.

    None means every thread OpenMP allows (it honours ``OMP_NUM_THREADS``).
    """
    from ._parallel import max_threads

    if n_threads is None:
        return max_threads()
    if not isinstance(n_threads, numbers.Integral) or isinstance(n_threads, bool):
        raise TypeError(
            f"n_threads must be None or a positive int, got {_describe(n_threads)}."
        )
    if n_threads < 1:
        raise ValueError(
            f"n_threads must be None or a positive int, got {n_threads}."
        )
    return int(n_threads)


def check_int(value, name, *, minimum=None, maximum=None):
    """Return ``value`` as an int after checking its type and range."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {_describe(value)}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}.")
    return int(value)


def check_real(value, name, *, minimum=None, maximum=None,
               include_minimum=True, include_maximum=True):
    """Return ``value`` as a finite float after checking its type and range."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if minimum is not None:
        if value < minimum or (value == minimum and not include_minimum):
            rule = ">=" if include_minimum else ">"
            raise ValueError(f"{name} must be {rule} {minimum}, got {value}.")
    if maximum is not None:
        if value > maximum or (value == maximum and not include_maximum):
            rule = "<=" if include_maximum else "<"
            raise ValueError(f"{name} must be {rule} {maximum}, got {value}.")
    return value


def check_bool(value, name):
    """Return ``value`` if it is a bool, else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}.")
    return bool(value)


def resolve_dtype(array_like):
    """Return float32 for float32 input and float64 for anything else numeric."""
    dtype = getattr(array_like, "dtype", None)
    if dtype is not None and np.dtype(dtype) == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


_FINITE_CHECK_CHUNK = 1 << 20


def _first_non_finite(A):
    """Return the index of the first NaN or inf in A, or None.

    Rows are checked in chunks of about 2^20 values, so the temporary mask
    stays small even for arrays of gigabytes.
    """
    if A.size == 0:
        return None
    flat_rows = A.reshape(A.shape[0], -1) if A.ndim > 1 else A.reshape(-1, 1)
    rows_per_chunk = max(1, _FINITE_CHECK_CHUNK // max(1, flat_rows.shape[1]))
    for start in range(0, flat_rows.shape[0], rows_per_chunk):
        mask = np.isfinite(flat_rows[start:start + rows_per_chunk])
        if not mask.all():
            row, column = np.argwhere(~mask)[0]
            flat_index = (start + row) * flat_rows.shape[1] + column
            return np.unravel_index(flat_index, A.shape)
    return None


def check_array(X, name, *, dtype=None, ndim=2, n_columns=None,
                min_rows=1, value_range=None, range_hint="", copy=False):
    """Validate an array and return it C-contiguous in a floating dtype.

    Parameters
    ----------
    X : array_like
        Input. Integer and boolean arrays are converted to floating point.
    name : str
        Parameter name used in error messages.
    dtype : numpy dtype, optional
        Target dtype; by default float32 stays float32 and everything else
        becomes float64.
    ndim : int
        Required number of dimensions.
    n_columns : int, optional
        Required size of the last axis.
    min_rows : int
        Required minimum size of the first axis.
    value_range : tuple of (float, float), optional
        Closed interval every value must lie in.
    range_hint : str
        Sentence appended to the error for a value outside ``value_range``,
        telling the caller how to fix the data.
    copy : bool
        Always return a new array, even when ``X`` already has the target
        layout. Without it the caller's array may be returned as is; callers
        must then not write into the result.

    Returns
    -------
    array : ndarray
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name} must be an array of numbers, got {_describe(X)}.")
    original = X
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must contain real numbers, got an array of dtype {X.dtype}."
        )
    if X.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array, got {X.ndim}-D with shape {X.shape}."
        )
    if ndim >= 1 and X.shape[0] < min_rows:
        raise ValueError(
            f"{name} must have at least {min_rows} row(s), got shape {X.shape}."
        )
    if n_columns is not None and X.shape[-1] != n_columns:
        raise ValueError(
            f"{name} must have {n_columns} columns to match the model, got "
            f"shape {X.shape}."
        )
    if ndim == 2 and X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one column, got shape {X.shape}.")
    target = np.dtype(dtype) if dtype is not None else resolve_dtype(X)
    result = np.ascontiguousarray(X, dtype=target)
    if copy and np.shares_memory(result, original if isinstance(original, np.ndarray) else X):
        result = result.copy()
    bad = _first_non_finite(result)
    if bad is not None:
        raise ValueError(
            f"{name} must contain only finite values, got {result[tuple(bad)]} "
            f"at index {tuple(int(i) for i in bad)}."
        )
    if value_range is not None:
        low, high = value_range
        outside = (result < low) | (result > high)
        if outside.any():
            bad = np.argwhere(outside)[0]
            raise ValueError(
                f"{name} must have values in [{low}, {high}], got "
                f"{result[tuple(bad)]} at index {tuple(int(i) for i in bad)}."
                + (f" {range_hint}" if range_hint else "")
            )
    return result
