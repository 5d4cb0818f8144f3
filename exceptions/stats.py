"""Small-sample honesty: the Wilson score interval for a proportion (Wilson, 1927)."""

from math import sqrt

Z95 = 1.959963984540054


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The 95% interval for hits/n; (0, 1) when there is no observation."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= hits <= n:
        raise ValueError(f"hits must lie between 0 and n, got {hits} of {n}")
    p = hits / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_lower(hits: int, n: int) -> float:
    return wilson_interval(hits, n)[0]
