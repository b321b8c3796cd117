"""The package's one random generator.

Everything random in ``autograd_mnist`` (dropout masks, initialisers, shuffling) draws from
the generator returned by :func:`get_rng` unless an explicit ``rng=`` argument is given.
NumPy's global random state is never used.
"""

from __future__ import annotations

import numpy as np

_rng: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the package generator, as ``torch.manual_seed`` does.

    Args:
        seed: any non-negative integer.

    Returns:
        The freshly seeded generator (also what :func:`get_rng` returns from now on).

    Raises:
        ValueError: if ``seed`` is negative.
    """
    global _rng
    if int(seed) < 0:
        raise ValueError(f"manual_seed: seed must be non-negative; got {seed}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng() -> np.random.Generator:
    """Return the package generator (seeded by :func:`manual_seed`)."""
    return _rng


def get_rng_state() -> dict[str, object]:
    """Return the package generator's state (a plain dict, JSON-serialisable)."""
    return dict(_rng.bit_generator.state)


def set_rng_state(state: dict[str, object]) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _rng.bit_generator.state = state
