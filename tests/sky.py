"""Sky positions for tests: points at an exact angular separation from given ones."""

from __future__ import annotations

import numpy as np

from vo import healpix


def offset_positions(
    ra: np.ndarray, dec: np.ndarray, sep_deg: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees at exactly ``sep_deg`` from each (ra, dec), in random directions."""
    v = np.stack(healpix.unit_vectors(ra, dec), axis=1)
    a = np.cross(v, rng.normal(size=v.shape))
    a /= np.linalg.norm(a, axis=1)[:, None]
    r = np.radians(sep_deg)[:, None]
    w = v * np.cos(r) + a * np.sin(r)
    return (np.degrees(np.arctan2(w[:, 1], w[:, 0])) % 360,
            np.degrees(np.arcsin(np.clip(w[:, 2], -1, 1))))
