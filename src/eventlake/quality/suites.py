"""The suite definitions in the repository's `expectations/` folder, read and checked.

The YAML files are the source of truth; GX objects are built from them on every run, so a
reviewed change to a YAML file is the whole change. Shorthands keep the gold suites short:
`grain` (unique and non-null), `non_negative`, `ratios` (in [0, 1]) and `percentiles`
(non-negative) expand to ordinary expectations, all critical.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from eventlake.errors import UserError

LAYERS = ("bronze", "silver", "gold")
SEVERITIES = ("critical", "warning")
PARAMETER = "$PARAMETER"


class SuiteDefinitionError(UserError):
    """A suite file in expectations/ is malformed."""


@dataclass(frozen=True)
class ExpectationSpec:
    name: str  # stable, human name: what results and summaries call it
    type: str  # a class of great_expectations.expectations, e.g. ExpectColumnValuesToBeUnique
    severity: str
    kwargs: Mapping[str, Any]
    notes: str | None = None

    @property
    def parameters(self) -> set[str]:
        """The `{$PARAMETER: name}` values this expectation needs at run time."""
        return {
            value[PARAMETER]
            for value in self.kwargs.values()
            if isinstance(value, Mapping) and PARAMETER in value
        }


@dataclass(frozen=True)
class SuiteSpec:
    name: str  # also the GX suite name, e.g. "silver.run_rows"
    layer: str
    table: str  # the lake table the suite is about, as recorded in the results
    data: str  # which batch to build (see eventlake.quality.batches)
    expectations: tuple[ExpectationSpec, ...]
    description: str = ""


@dataclass(frozen=True)
class LayerSuites:
    layer: str
    suites: tuple[SuiteSpec, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)


def default_suites_dir() -> Path:
    """The suites shipped with the package: `eventlake/expectations/`, a link to the
    repository's top-level `expectations/` in a checkout, and a copy of its files in a
    built wheel (package data), so an installed eventlake finds them with no checkout."""
    return Path(__file__).resolve().parents[1] / "expectations"


def load_layer(layer: str, suites_dir: Path | None = None) -> LayerSuites:
    if layer not in LAYERS:
        raise SuiteDefinitionError(f"unknown layer {layer!r}; use one of {', '.join(LAYERS)}")
    path = (suites_dir or default_suites_dir()) / f"{layer}.yaml"
    if not path.is_file():
        raise SuiteDefinitionError(
            f"no suite file {path}: set EVENTLAKE_EXPECTATIONS_DIR to a folder holding {layer}.yaml"
        )
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_layer(document, layer, source=str(path))


def parse_layer(document: Mapping[str, Any], layer: str, *, source: str = "<suite>") -> LayerSuites:
    if document.get("layer") != layer:
        raise SuiteDefinitionError(f"{source}: expected `layer: {layer}`")
    suites = []
    seen: set[str] = set()
    for raw in document.get("suites") or []:
        suite = _parse_suite(raw, layer, source)
        if suite.name in seen:
            raise SuiteDefinitionError(f"{source}: suite {suite.name!r} is defined twice")
        seen.add(suite.name)
        suites.append(suite)
    return LayerSuites(layer, tuple(suites), dict(document.get("parameters") or {}))


def _parse_suite(raw: Mapping[str, Any], layer: str, source: str) -> SuiteSpec:
    try:
        name, table, data = raw["name"], raw["table"], raw["data"]
    except KeyError as missing:
        raise SuiteDefinitionError(f"{source}: a suite lacks {missing}") from None
    expectations = list(_shorthand_expectations(raw))
    for item in raw.get("expectations") or []:
        expectations.append(_parse_expectation(item, f"{source}: suite {name}"))
    names = [e.name for e in expectations]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SuiteDefinitionError(f"{source}: suite {name} names {duplicated} twice")
    return SuiteSpec(name, layer, table, data, tuple(expectations), raw.get("description", ""))


def _shorthand_expectations(raw: Mapping[str, Any]) -> Iterator[ExpectationSpec]:
    grain = list(raw.get("grain") or [])
    if grain:
        # GX's compound-unique expectation wants two columns or more.
        if len(grain) == 1:
            unique = ("ExpectColumnValuesToBeUnique", {"column": grain[0]})
        else:
            unique = ("ExpectCompoundColumnsToBeUnique", {"column_list": grain})
        yield ExpectationSpec(
            "grain_unique", unique[0], "critical", unique[1], "One row per grain value (contract §6).",
        )
        for column in grain:
            yield ExpectationSpec(
                f"{column}_not_null", "ExpectColumnValuesToNotBeNull", "critical",
                {"column": column}, "Grain columns are never null (null market/platform is 'unknown').",
            )
    for column in raw.get("non_negative") or []:
        yield ExpectationSpec(
            # Values, not the column minimum: an empty table (no rows yet) must pass.
            f"{column}_non_negative", "ExpectColumnValuesToBeBetween", "critical",
            {"column": column, "min_value": 0}, "Counts, sums and durations are never negative.",
        )
    for column in raw.get("percentiles") or []:
        yield ExpectationSpec(
            f"{column}_non_negative", "ExpectColumnValuesToBeBetween", "critical",
            {"column": column, "min_value": 0}, "Percentiles of non-negative measures.",
        )
    for column in raw.get("ratios") or []:
        yield ExpectationSpec(
            f"{column}_in_0_1", "ExpectColumnValuesToBeBetween", "critical",
            {"column": column, "min_value": 0, "max_value": 1},
            "A ratio lies in [0, 1], or is null when its denominator is 0.",
        )


def _parse_expectation(item: Mapping[str, Any], where: str) -> ExpectationSpec:
    try:
        name, type_, severity = item["name"], item["type"], item["severity"]
    except KeyError as missing:
        raise SuiteDefinitionError(f"{where}: an expectation lacks {missing}") from None
    if severity not in SEVERITIES:
        raise SuiteDefinitionError(
            f"{where}: {name}: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
        )
    return ExpectationSpec(name, type_, severity, dict(item.get("kwargs") or {}), item.get("notes"))
