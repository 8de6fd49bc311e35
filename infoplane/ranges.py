"""Range checks of numeric settings: one table per config,
{field: (low, high, low excluded, high excluded)}, None for an unbounded side."""
import math


def check_ranges(config, ranges: dict, label=lambda name: name) -> None:
    """A ValueError naming the first field (as label(field)) outside its range, or not a
    finite number."""
    for name, (low, high, low_open, high_open) in ranges.items():
        value = getattr(config, name)
        inside = (isinstance(value, (int, float)) and math.isfinite(value)
                  and (value > low if low_open else value >= low)
                  and (high is None or (value < high if high_open else value <= high)))
        if not inside:
            bound = f"{'>' if low_open else '>='} {low}" + (
                "" if high is None else f" and {'<' if high_open else '<='} {high}")
            raise ValueError(f"{label(name)} must be {bound}, got {value!r}")
