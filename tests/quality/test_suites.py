"""The suite files in expectations/: they load, every entry builds into a GX expectation."""

from __future__ import annotations

import pytest

from eventlake.quality.batches import BUILDERS
from eventlake.quality.engine import build_expectation
from eventlake.quality.suites import LAYERS, SuiteDefinitionError, load_layer, parse_layer

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("layer", LAYERS)
def test_every_expectation_builds_with_its_severity(layer):
    suites = load_layer(layer)
    assert suites.suites
    for suite in suites.suites:
        assert (layer, suite.data) in BUILDERS, suite.name
        assert suite.name.startswith(f"{layer}.")
        for spec in suite.expectations:
            expectation = build_expectation(suite, spec)
            assert expectation.severity.value == spec.severity
            assert expectation.meta["name"] == spec.name


def test_gold_shorthands_expand_to_named_critical_expectations():
    suites = parse_layer(
        {
            "layer": "gold",
            "suites": [{
                "name": "gold.t", "table": "gold.t", "data": "table",
                "grain": ["event_date", "market"], "non_negative": ["events"], "ratios": ["rate"],
            }],
        },
        "gold",
    )
    [suite] = suites.suites
    assert [(e.name, e.type, e.severity, dict(e.kwargs)) for e in suite.expectations] == [
        ("grain_unique", "ExpectCompoundColumnsToBeUnique", "critical", {"column_list": ["event_date", "market"]}),
        ("event_date_not_null", "ExpectColumnValuesToNotBeNull", "critical", {"column": "event_date"}),
        ("market_not_null", "ExpectColumnValuesToNotBeNull", "critical", {"column": "market"}),
        ("events_non_negative", "ExpectColumnValuesToBeBetween", "critical", {"column": "events", "min_value": 0}),
        ("rate_in_0_1", "ExpectColumnValuesToBeBetween", "critical", {"column": "rate", "min_value": 0, "max_value": 1}),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "type": "ExpectColumnValuesToBeUnique", "severity": "fatal", "kwargs": {"column": "a"}}, "severity 'fatal'"),
        ({"name": "x", "type": "ExpectColumnValuesToBeUnique", "kwargs": {"column": "a"}}, "lacks 'severity'"),
    ],
)
def test_malformed_entries_are_one_line_errors(entry, message):
    document = {"layer": "silver", "suites": [{"name": "silver.s", "table": "t", "data": "run_rows", "expectations": [entry]}]}
    with pytest.raises(SuiteDefinitionError, match=message):
        parse_layer(document, "silver")


def test_unknown_expectation_type_is_reported():
    suites = parse_layer(
        {"layer": "silver", "suites": [{"name": "silver.s", "table": "t", "data": "run_rows", "expectations": [
            {"name": "x", "type": "ExpectTheImpossible", "severity": "warning", "kwargs": {}}]}]},
        "silver",
    )
    suite = suites.suites[0]
    with pytest.raises(SuiteDefinitionError, match="not a Great Expectations expectation"):
        build_expectation(suite, suite.expectations[0])
