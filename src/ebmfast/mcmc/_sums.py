"""Row sums in the order the compiled kernels add, for bit-identical replay.

The kernels in ``csrc/ebm_mcmc_kernels.h`` sum over j with eight partial
sums over j mod 8, combined as ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)),
then add the tail j >= 8 floor(d / 8) in index order. NumPy's pairwise sum
rounds differently, and step size adaptation amplifies a difference in the
last bit until the two backends' chains part, so the reference adds in the
kernels' order.
"""

import numpy as np

__all__ = ["kernel_order_sum"]


def kernel_order_sum(terms):
    """Return the sum of each row of the float64 array ``terms``, shape (n, d) -> (n,)."""
    terms = np.asarray(terms, dtype=np.float64)
    n, d = terms.shape
    n_full = d - d % 8
    lanes = np.zeros((n, 8))
    for start in range(0, n_full, 8):
        lanes = lanes + terms[:, start:start + 8]
    total = ((lanes[:, 0] + lanes[:, 4]) + (lanes[:, 1] + lanes[:, 5])) + \
        ((lanes[:, 2] + lanes[:, 6]) + (lanes[:, 3] + lanes[:, 7]))
    for j in range(n_full, d):
        total = total + terms[:, j]
    return total
