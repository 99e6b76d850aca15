"""The balance score (DESIGN §8): `100 × (1 − CV)` floored at 0, where CV is the population
standard deviation of the values over their mean. Plain numbers in, a number out."""

from statistics import fmean, pstdev


def balance_score(values) -> float | None:
    """None when there is nobody to balance; 100 when every value is equal (zeros too)."""
    values = [float(v) for v in values]
    if not values:
        return None
    mean = fmean(values)
    if mean == 0:
        return 100.0
    return round(max(0.0, 100.0 * (1.0 - pstdev(values) / mean)), 2)
