"""The fast core (issue 11) against the numpy core it replaced.

Bit-exactness: the scenarios of tests/core_reference.py were run with the numpy core of
commit 43d8df1 and their results saved as digests; the fast core must reproduce every
weight, output word, fire pattern, event count and cycle count exactly.
"""
import numpy as np
import pytest

import core_reference as ref


@pytest.fixture(scope="module")
def saved():
    d = np.load(ref.DATA)
    return dict(zip(d["names"].tolist(), (bytes(r).hex() for r in d["digests"]))), d


@pytest.fixture(autouse=True)
def noise_as_saved():
    from codesign.converters import reference_noise
    with reference_noise():
        yield


def _check(results: dict, saved) -> None:
    digests, d = saved
    bad = [k for k, v in results.items() if ref.digest(v) != digests[k]]
    for k in bad[:3]:
        full = d.get(f"full:{k}") if f"full:{k}" in d else None
        if full is not None:
            print(k, "max |diff|", np.abs(np.asarray(results[k]) - full).max())
    assert not bad, f"{len(bad)} results differ from the saved reference, first: {bad[:8]}"


@pytest.mark.parametrize("name", list(ref.CONFIGS))
def test_tile_scenarios_are_bit_identical_to_saved_reference(name, saved):
    res = {f"{name}/{k}": np.asarray(v) for k, v in ref.run_tile(name, ref.CONFIGS[name]).items()}
    assert set(res) <= set(saved[0])
    _check(res, saved)


def test_bench_sized_tile_is_bit_identical_to_saved_reference(saved):
    _check({f"big/{k}": np.asarray(v) for k, v in ref.run_big().items()}, saved)


@pytest.mark.parametrize("batch", [1, 8])
def test_training_is_bit_identical_to_saved_reference(batch, saved):
    _check({f"train_b{batch}/{k}": v for k, v in ref.run_training(batch).items()}, saved)
