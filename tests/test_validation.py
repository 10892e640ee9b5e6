import numpy as np
import pytest

import ebmfast
from ebmfast._validation import check_array, check_n_threads


def test_n_threads_none_is_positive():
    assert check_n_threads(None) >= 1


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-2, ValueError), (1.0, TypeError), ("2", TypeError), (True, TypeError),
])
def test_n_threads_rejected(bad, error):
    with pytest.raises(error, match="n_threads"):
        check_n_threads(bad)


def test_n_threads_rejected_by_model():
    with pytest.raises(ValueError, match="n_threads must be None or a positive int, got 0"):
        ebmfast.BernoulliRBM(n_threads=0)


def test_backend_rejected():
    with pytest.raises(ValueError, match="backend must be one of"):
        ebmfast.BernoulliRBM(backend="gpu")


def test_check_array_converts_ints():
    out = check_array(np.array([[0, 1]], dtype=np.int64), "X")
    assert out.dtype == np.float64


def test_check_array_keeps_float32():
    out = check_array(np.zeros((2, 3), np.float32), "X")
    assert out.dtype == np.float32


def test_check_array_copy_leaves_input():
    X = np.zeros((2, 3))
    out = check_array(X, "X", copy=True)
    out[0, 0] = 5
    assert X[0, 0] == 0


@pytest.mark.parametrize("X, message", [
    (np.zeros(3), "2-D array, got 1-D"),
    (np.zeros((0, 3)), "at least 1 row"),
    (np.zeros((3, 0)), "at least one column"),
    (np.array([[0.0, np.nan]]), r"finite values, got nan at index \(0, 1\)"),
    (np.array([[0.0, np.inf]]), "finite values, got inf"),
    (np.array([["a", "b"]]), "real numbers"),
    (np.array([[0.5, 1.5]]), r"values in \[0.0, 1.0\], got 1.5"),
])
def test_check_array_messages(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        check_array(X, "X", value_range=(0.0, 1.0))


def test_check_array_finds_non_finite_in_large_array():
    # Larger than one chunk of the finiteness check, with the NaN near the end.
    X = np.zeros((3000, 700), dtype=np.float32)
    X[2999, 698] = np.nan
    with pytest.raises(ValueError, match=r"got nan at index \(2999, 698\)"):
        check_array(X, "X")
