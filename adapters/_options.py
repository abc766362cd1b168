"""Reading adapter options, which the config loader passes as text."""

from __future__ import annotations

from collections.abc import Mapping

# Values that switch a cap off.
OFF_WORDS = frozenset({"", "none", "null", "off", "no"})


def read_number(
    options: Mapping,
    key: str,
    default: float | None,
    *,
    integer: bool = False,
    nullable: bool = False,
) -> float | int | None:
    """Return the number given for ``key``, or ``default`` when it is absent.

    YAML scalars arrive as text, so ``"2.5"`` reads as 2.5. With ``nullable``,
    ``none`` or ``off`` reads as None. Raise ValueError for anything else
    that is not a non-negative number.
    """

    if key not in options or options[key] is None:
        return default
    value = options[key]
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if nullable and text in OFF_WORDS:
            return None
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise ValueError(f"must be {kind}, not {options[key]!r}") from None
    if not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, not {value!r}")
    if integer and value != int(value):
        raise ValueError(f"must be a whole number, not {value!r}")
    if value < 0:
        raise ValueError(f"must not be negative, not {value!r}")
    return int(value) if integer else float(value)
