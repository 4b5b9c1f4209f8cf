"""Comparing a stored table with a recomputation, for the end-to-end tests."""

from __future__ import annotations


def rows_of(frame) -> list[tuple]:
    """A frame's rows, collected once, with floats to 10 significant digits, in a fixed order.

    Means and standard deviations are rounded: Spark sums in partition order, so a
    recomputation may differ from the stored value in the last bit.
    """
    def rounded(row) -> tuple:
        return tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row)

    return sorted(map(rounded, frame.collect()), key=repr)


def assert_same_rows(actual, expected, name: str = "") -> list[tuple]:
    """Same column names and the same rows, duplicates included, in any order; one Spark job
    per side (`exceptAll` both ways costs four). Returns the rows, for further checks."""
    assert actual.columns == expected.columns, name
    rows = rows_of(actual)
    assert rows == rows_of(expected), name
    return rows
