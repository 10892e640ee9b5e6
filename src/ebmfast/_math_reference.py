"""The float64 exp, logistic and softplus of ``csrc/ebm_math.h``, replayed in NumPy.

Each function repeats the C operations in the same order, so with the
build's -ffp-contract=off the results are bit-identical to the kernels'.
NumPy's own exp and log1p differ from them in the last bits, which is enough
for step size adaptation to make two otherwise identical chains part.
"""

import numpy as np

from ._normal_reference import _horner

__all__ = ["exp_nonpos", "log1p_unit", "logistic", "softplus"]

_ROUNDING_SHIFT = 6755399441055744.0  # 1.5 * 2^52
_ROUNDING_SHIFT_BITS = 0x4338000000000000
_EXP_COEFFICIENTS = [1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                     1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                     1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0]
_ATANH_COEFFICIENTS = [1.0 / k for k in range(31, 0, -2)]


def exp_nonpos(x):
    """Return exp(x) for float64 x <= 0, clamped to [-708, 0], as ``ebm_exp_nonpos_d``."""
    x = np.asarray(x, dtype=np.float64)
    x = np.where(x < -708.0, -708.0, x)
    x = np.where(x > 0.0, 0.0, x)
    shifted = x * 1.4426950408889634074 + _ROUNDING_SHIFT
    n = shifted - _ROUNDING_SHIFT
    with np.errstate(over="ignore", invalid="ignore"):
        n_bits = shifted.view(np.int64) - np.int64(_ROUNDING_SHIFT_BITS)
        scale = ((n_bits + np.int64(1023)) << np.int64(52)).view(np.float64)
    r = x - n * 6.93145751953125e-1
    r = r - n * 1.42860682030941723212e-6
    return _horner(_EXP_COEFFICIENTS, r) * scale


def log1p_unit(e):
    """Return log(1 + e) for float64 e in [0, 1], as ``ebm_log1p_unit_d``."""
    s = e / (2.0 + e)
    return 2.0 * s * _horner(_ATANH_COEFFICIENTS, s * s)


def logistic(x):
    """Return 1 / (1 + exp(-x)) as ``ebm_logistic_d``."""
    e = exp_nonpos(-np.abs(x))
    inv = 1.0 / (1.0 + e)
    return np.where(x >= 0.0, inv, e * inv)


def softplus(x):
    """Return log(1 + exp(x)) as ``ebm_softplus_d``."""
    return np.where(x > 0.0, x, 0.0) + log1p_unit(exp_nonpos(-np.abs(x)))
