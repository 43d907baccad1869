"""
### nightscore nightly

One run per logical date `ds`: wait for the day's raw events, **ingest** them into `events` (bad rows to
`quarantine`), **retrain** on the window before `ds` (the gate decides whether the new model becomes
champion), **score** `ds` with the champion; when labels arrive in their own feed (`labels_path`), wait for the
labels that arrived on `ds` and **ingest_labels** them (`labels_feed` skips both otherwise); **monitor** drift
and realized quality, **maintain** the tables (OPTIMIZE, VACUUM) and **check** the day's invariants and
monitoring alerts. Every job replaces exactly its date, so reruns and backfills are safe.

Configuration, read when a task runs (never when the file is parsed): the Airflow Variable `nightscore`
(JSON; see airflow/nightscore.example.json: jar, raw_path, profile `cpu`/`gpu`, ...), the Spark connection
`nightscore_spark` (master, deploy mode, queue) and the file-system connection `nightscore_fs` for the
raw-input sensor. The command lines come from `nightscore_plan` (next to this file), which the local
runner (airflow/run_local.py) uses too.
"""
import datetime

import pendulum
from airflow import DAG
from airflow.operators.python import ShortCircuitOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sensors.filesystem import FileSensor

import nightscore_plan as plan

# Rendered at run time with the Variable: native rendering turns these into the lists and dicts the operator needs.
CONFIG = "plan.load_config(var.json.nightscore)"

default_args = {
    "owner": "nightscore",
    "retries": 3,
    "retry_delay": datetime.timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": datetime.timedelta(hours=2),
}

with DAG(
    dag_id="nightscore_nightly",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=3,
    default_args=default_args,
    user_defined_macros={"plan": plan},
    render_template_as_native_obj=True,
    tags=["nightscore"],
) as dag:
    wait_for_raw = FileSensor(
        task_id="wait_for_raw",
        fs_conn_id="nightscore_fs",
        filepath="{{ plan.raw_path(ds, %s) }}" % CONFIG,
        mode="reschedule",
        poke_interval=600,
        timeout=plan.TIMEOUT_MINUTES["wait_for_raw"] * 60,
    )
    # No labels feed configured: skip the labels branch only; monitor (trigger rule none_failed) still runs.
    labels_feed = ShortCircuitOperator(
        task_id="labels_feed",
        python_callable=plan.has_labels_feed,
        op_args=["{{ %s }}" % CONFIG],
        ignore_downstream_trigger_rules=False,
    )
    wait_for_labels = FileSensor(
        task_id="wait_for_labels",
        fs_conn_id="nightscore_fs",
        filepath="{{ plan.labels_path(ds, %s) }}" % CONFIG,
        mode="reschedule",
        poke_interval=600,
        timeout=plan.TIMEOUT_MINUTES["wait_for_labels"] * 60,
    )
    jobs = {
        task: SparkSubmitOperator(
            task_id=task,
            conn_id="nightscore_spark",
            application="{{ %s['jar'] }}" % CONFIG,
            java_class=plan.MAIN_CLASS,
            conf="{{ plan.spark_conf(%s, '%s') }}" % (CONFIG, task),
            application_args="{{ plan.application_args('%s', ds, %s) }}" % (task, CONFIG),
            name="nightscore-%s-{{ ds }}" % task,
            execution_timeout=datetime.timedelta(minutes=plan.TIMEOUT_MINUTES[task]),
            # One retrain at a time: models are registered and gated in order, never two at once.
            max_active_tis_per_dag=1 if task == "retrain" else None,
            trigger_rule="none_failed" if task == "monitor" else "all_success",
        )
        for task in plan.SPARK_TASKS
    }

    (wait_for_raw >> jobs["ingest"] >> jobs["retrain"] >> jobs["score"] >> labels_feed >> wait_for_labels
     >> jobs["ingest_labels"] >> jobs["monitor"] >> jobs["maintain"] >> jobs["check"])
