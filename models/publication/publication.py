"""The last step of a DuckDB build: publish the marts to readers.

Grain: one row, the publication this build made. It reads every mart, so
dbt runs it after all of them, and `dbt build` runs it only when every
model and every data test upstream passed: a failed or killed build never
publishes. lead_scoring.warehouse.publish copies the marts into a new file
and renames it over the published file (LEAD_SCORING_PUBLISHED_PATH, by
default the build file's name with `_published`), which BI tools and
`summary`, `report` and `explain` read; see docs/operations.md. Enabled on
DuckDB only: PostgreSQL and Spark readers see committed tables directly.
"""

from lead_scoring.warehouse.publish import publish, published_path


def model(dbt, session):
    dbt.config(materialized="table")
    # Every mart (a conventions test checks the list is whole). The build
    # id, as_of and build time are the ones rpt_build_inputs recorded.
    marts = {
        "dim_leads": dbt.ref("dim_leads"),
        "fct_activities": dbt.ref("fct_activities"),
        "fct_lifecycle_transitions": dbt.ref("fct_lifecycle_transitions"),
        "fct_mql_events": dbt.ref("fct_mql_events"),
        "fct_rejected_rows": dbt.ref("fct_rejected_rows"),
        "fct_score_ledger": dbt.ref("fct_score_ledger"),
        "metricflow_time_spine": dbt.ref("metricflow_time_spine"),
        "rpt_build_inputs": dbt.ref("rpt_build_inputs"),
        "rpt_funnel_conversion": dbt.ref("rpt_funnel_conversion"),
        "rpt_rule_effectiveness": dbt.ref("rpt_rule_effectiveness"),
        "rpt_sales_feedback": dbt.ref("rpt_sales_feedback"),
        "rpt_score_calibration": dbt.ref("rpt_score_calibration"),
        "rpt_threshold_backtest": dbt.ref("rpt_threshold_backtest"),
    }
    # fct_score_ledger, one row per rule firing (about one per activity),
    # is published as the view it is in the build, over copies of what it
    # reads besides fct_activities (a conventions test checks they are
    # exactly its other inputs): the rules each activity type matches, the
    # leads' attribute matches and their qualification epochs.
    views = ["fct_score_ledger"]
    view_inputs = {
        "int_activity_type_rules": dbt.ref("int_activity_type_rules"),
        "int_lead_attribute_rules_matched": dbt.ref(
            "int_lead_attribute_rules_matched"
        ),
        "int_lead_qualification_epochs": dbt.ref("int_lead_qualification_epochs"),
    }
    # fct_activities, one row per activity, is published by lead: only the
    # leads whose activities changed since the published build are written
    # (lead_scoring.warehouse.publish._patch_relation).
    patched = {"fct_activities": "lead_id"}
    build_id, scores_as_of, built_at = marts["rpt_build_inputs"].aggregate(
        "max(_invocation_id), max(scores_as_of), max(_built_at)"
    ).fetchall()[0]
    build_file = session.execute(
        "select path from duckdb_databases() "
        "where database_name = current_database()"
    ).fetchone()[0]
    if build_file is None:
        # An in-memory warehouse ends with its process: nothing to publish.
        target, published_at, row_count = None, None, None
    else:
        publication = publish(
            session,
            schema=dbt.this.schema,
            relations=sorted((set(marts) - set(views)) | set(view_inputs)),
            views=views,
            patched=patched,
            target=published_path(build_file),
            build_id=build_id,
            scores_as_of=scores_as_of,
            built_at=built_at,
        )
        target = str(publication.path.resolve())
        published_at = publication.published_at
        row_count = sum(publication.rows.values())
    return session.sql(
        "select cast(? as varchar) as build_id, "
        "cast(? as timestamp) as scores_as_of, "
        "cast(? as timestamp) as built_at, "
        "cast(? as timestamp) as published_at, "
        "cast(? as varchar) as published_path, "
        "cast(? as integer) as relation_count, "
        "cast(? as bigint) as row_count",
        params=[
            build_id, scores_as_of, built_at, published_at, target,
            len(marts) + len(view_inputs), row_count,
        ],
    )
