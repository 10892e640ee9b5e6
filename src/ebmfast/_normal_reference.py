"""Standard normal numbers from the chain streams, replayed in NumPy.

This is the specification of ``csrc/ebm_normal.h``: the same Box-Muller
transform with the same operations in the same order, so the numbers are
bit-identical to the compiled ones. Each 64-bit draw r gives two numbers:

    u = ((r >> 32) + 1) 2^-32,  radius = sqrt(-2 log u)
    angle = q pi/2 + phi, with q = the top 2 bits of the low 32 bits and
    phi = ((the other 30 bits) + 0.5) 2^-30 pi/2 - pi/4
    z0 = radius cos(angle),  z1 = radius sin(angle)

log, sin and cos are polynomials (see the header) rather than NumPy's own
functions, whose last bits differ between platforms and from C's libm.

float32 numbers come from a scheme of their own, computed in float32 from
31 bits for the radius and 2 + 23 bits for the angle (``normals_from_raw_f32``).
"""

import numpy as np

__all__ = ["standard_normal", "standard_normal_rows"]

_LN2_HIGH = 0.693145751953125
_LN2_LOW = 1.4286068203094173e-06
_SQRT2 = 1.4142135623730951
_TWO_POW_M32 = 2.3283064365386963e-10
_TWO_POW_M30 = 9.313225746154785e-10
_HALF_PI = 1.5707963267948966
_QUARTER_PI = 0.7853981633974483

# Coefficients in the order of Horner's rule, highest power first.
_ATANH_COEFFICIENTS = [1.0 / k for k in range(23, 0, -2)]
_SIN_COEFFICIENTS = [1.0 / 355687428096000.0, -1.0 / 1307674368000.0,
                     1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
                     -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0, 1.0]
_COS_COEFFICIENTS = [1.0 / 20922789888000.0, -1.0 / 87178291200.0,
                     1.0 / 479001600.0, -1.0 / 3628800.0, 1.0 / 40320.0,
                     -1.0 / 720.0, 1.0 / 24.0, -0.5, 1.0]


def _horner(coefficients, x):
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def log_unit(u):
    """Return log(u) for float64 u in (0, 1], as ``ebm_normal_log_unit``."""
    bits = u.view(np.uint64)
    exponent = (bits >> np.uint64(52)).astype(np.float64) - 1023.0
    mantissa_bits = (bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)
    m = mantissa_bits.view(np.float64)
    big = np.where(m > _SQRT2, 1.0, 0.0)
    m = m * (1.0 - 0.5 * big)
    exponent = exponent + big
    s = (m - 1.0) / (m + 1.0)
    p = _horner(_ATANH_COEFFICIENTS, s * s)
    return exponent * _LN2_HIGH + (exponent * _LN2_LOW + 2.0 * s * p)


def normals_from_raw(raw):
    """Return the 2 * len(raw) float64 normals of the 64-bit draws ``raw``."""
    raw = np.asarray(raw, dtype=np.uint64)
    high = (raw >> np.uint64(32)).astype(np.float64)
    low = raw & np.uint64(0xFFFFFFFF)
    u = (high + 1.0) * _TWO_POW_M32
    radius = np.sqrt(-2.0 * log_unit(u))

    quadrant = (low >> np.uint64(30)).astype(np.float64)
    v = ((low & np.uint64(0x3FFFFFFF)).astype(np.float64) + 0.5) * _TWO_POW_M30
    phi = v * _HALF_PI - _QUARTER_PI
    phi2 = phi * phi
    sin_phi = _horner(_SIN_COEFFICIENTS, phi2) * phi
    cos_phi = _horner(_COS_COEFFICIENTS, phi2)

    odd = (quadrant == 1.0) | (quadrant == 3.0)
    cos_sign = np.where((quadrant == 1.0) | (quadrant == 2.0), -1.0, 1.0)
    sin_sign = np.where(quadrant >= 2.0, -1.0, 1.0)
    c = np.where(odd, sin_phi, cos_phi)
    s = np.where(odd, cos_phi, sin_phi)
    pairs = np.empty(2 * raw.size, dtype=np.float64)
    pairs[0::2] = radius * (cos_sign * c)
    pairs[1::2] = radius * (sin_sign * s)
    return pairs


_F = np.float32


def _float_reciprocals(denominators):
    # 1/k as a correctly rounded float division, as the C constants 1.0f / k.
    return [_F(1.0) / _F(k) for k in denominators]


_ATANH_F = _float_reciprocals([9, 7, 5, 3, 1])
_SIN_F = [-c if sign else c for c, sign in
          zip(_float_reciprocals([39916800, 362880, 5040, 120, 6, 1]),
              [True, False, True, False, True, False])]
_COS_F = [-c if sign else c for c, sign in
          zip(_float_reciprocals([3628800, 40320, 720, 24, 2, 1]),
              [True, False, True, False, True, False])]


def log_unit_f32(u):
    """Return log(u) for float32 u in (0, 1], as ``ebm_normal_log_unit_f``."""
    bits = u.view(np.int32)
    exponent = ((bits >> 23) - 127).astype(_F)
    m = ((bits & 0x007FFFFF) | 0x3F800000).view(_F)
    big = np.where(m > _F(1.41421356), _F(1.0), _F(0.0))
    m = m * (_F(1.0) - _F(0.5) * big)
    exponent = exponent + big
    s = (m - _F(1.0)) / (m + _F(1.0))
    p = _horner(_ATANH_F, s * s)
    return exponent * _F(0.693359375) + (exponent * _F(-2.12194440e-4) + _F(2.0) * s * p)


def normals_from_raw_f32(raw):
    """Return the 2 * len(raw) float32 normals of the 64-bit draws ``raw``."""
    raw = np.asarray(raw, dtype=np.uint64)
    k = (raw >> np.uint64(33)).astype(np.int32)
    u = (k.astype(_F) + _F(0.5)) * _F(2.0**-31)
    radius = np.sqrt(_F(-2.0) * log_unit_f32(u))

    low = (raw & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    quadrant = (low >> np.uint32(30)).astype(np.int32).astype(_F)
    v = ((low >> np.uint32(7)) & np.uint32(0x7FFFFF)).astype(np.int32).astype(_F) + _F(0.5)
    phi = v * (_F(np.pi / 2) * _F(2.0**-23)) - _F(np.pi / 4)
    phi2 = phi * phi
    sin_phi = _horner(_SIN_F, phi2) * phi
    cos_phi = _horner(_COS_F, phi2)

    odd = (quadrant == 1) | (quadrant == 3)
    cos_sign = np.where((quadrant == 1) | (quadrant == 2), _F(-1.0), _F(1.0))
    sin_sign = np.where(quadrant >= 2, _F(-1.0), _F(1.0))
    c = np.where(odd, sin_phi, cos_phi)
    s = np.where(odd, cos_phi, sin_phi)
    pairs = np.empty(2 * raw.size, dtype=_F)
    pairs[0::2] = radius * (cos_sign * c)
    pairs[1::2] = radius * (sin_sign * s)
    return pairs


def standard_normal(streams, i, n, dtype=np.float64):
    """Draw ``n`` standard normals from stream ``i``, as ``ebm_normal_fill_*``.

    Parameters
    ----------
    streams : ebmfast._random.ChainStreams
        Stream ``i`` is advanced by ``ceil(n / 2)`` draws.
    i : int
        Stream index.
    n : int
        Number of normals.
    dtype : float32 or float64
        float32 numbers follow the float32 scheme of ``normals_from_raw_f32``.

    Returns
    -------
    z : ndarray of shape (n,)
    """
    raw = streams.random_raw(i, (n + 1) // 2)
    if np.dtype(dtype) == np.float32:
        return normals_from_raw_f32(raw)[:n]
    return normals_from_raw(raw)[:n].astype(dtype)


def standard_normal_rows(streams, n, dtype=np.float64):
    """Draw ``n`` normals from each stream; row ``i`` from stream ``i``.

    Returns an ndarray of shape (len(streams), n).
    """
    out = np.empty((len(streams), n), dtype=dtype)
    for i in range(len(streams)):
        out[i] = standard_normal(streams, i, n, dtype)
    return out
