"""The dbt unit tests, run once on a built warehouse.

Every scoring, lifecycle and staging edge (thresholds met exactly, decay
over a half-life, chunk boundaries, caps, ties in one second, recycles,
disqualifications, outcome attribution, AUC) is a dbt unit test in
models/**/_*__unit_tests.yml. The other suites' builds leave them out
(conftest.Warehouse.dbt_raw); `dbt build` and CI's engine builds run them.
"""

from __future__ import annotations

from conftest import GENERATED_AS_OF


def test_every_unit_test_passes(generated) -> None:
    warehouse, _ = generated
    result = warehouse.dbt(
        "test", "--select", "test_type:unit", vars={"as_of": GENERATED_AS_OF}
    )
    ran = [
        node_result for node_result in result.result.results
        if node_result.node.resource_type == "unit_test"
    ]
    assert len(ran) >= 14, f"only {len(ran)} unit tests ran"
    failed = {
        node_result.node.name: node_result.message
        for node_result in ran
        if str(node_result.status).lower() != "pass"
    }
    assert not failed, failed
