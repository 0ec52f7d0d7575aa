"""kernels.respond_blocks: where each FUSED_CHUNK block of the devices starts in a
sorted pulsed list (the blocks a batch-1 update's device work is shared in)."""
import numpy as np
import pytest

from codesign import kernels as K


@pytest.mark.parametrize("size", [1, 100, K.FUSED_CHUNK, K.FUSED_CHUNK + 1,
                                  3 * K.FUSED_CHUNK - 1, 128000])
def test_block_starts_are_the_first_pulsed_device_of_each_block(size):
    rng = np.random.default_rng(size)
    edges = np.arange(0, size, K.FUSED_CHUNK)
    lists = [np.zeros(0, np.int64), np.arange(size, dtype=np.int64),
             np.unique(np.concatenate([edges, edges - 1, [size - 1]])),  # on the edges
             np.unique(np.concatenate([edges[1:] - 1]))]                  # just before
    lists += [np.sort(rng.choice(size, min(n, size), replace=False)) for n in (1, 7, 3000)]
    for idx in lists:
        idx = idx[(idx >= 0) & (idx < size)].astype(np.int64)
        want = [int(np.flatnonzero(idx >= e)[0]) if (idx >= e).any() else idx.size
                for e in edges] + [idx.size]
        np.testing.assert_array_equal(K.respond_blocks(idx, size), want)
