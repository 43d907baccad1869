"""The nightly plan: task order, command lines, profiles and config validation (no Airflow needed)."""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dags"))
import nightscore_plan as plan  # noqa: E402

BASE = {"jar": "/opt/ns/nightscore-jobs.jar", "raw_path": "/data/raw/dt={ds}"}


class PlanTest(unittest.TestCase):
    def test_tasks_run_in_dag_order(self):
        self.assertEqual(plan.TASKS, ("wait_for_raw", "ingest", "retrain", "score", "labels_feed", "wait_for_labels",
                                      "ingest_labels", "monitor", "maintain", "check"))
        self.assertEqual(set(plan.TIMEOUT_MINUTES), set(plan.TASKS), "every task has a timeout")

    def test_each_job_gets_its_date_and_only_ingest_reads_raw(self):
        cfg = plan.load_config(BASE)
        self.assertEqual(plan.application_args("ingest", "2026-11-08", cfg),
                         ["ingest", "--date", "2026-11-08", "--input", "/data/raw/dt=2026-11-08", "--format", "csv"])
        for task in ("retrain", "score", "monitor", "maintain", "check"):
            self.assertEqual(plan.application_args(task, "2026-11-08", cfg), [task, "--date", "2026-11-08"])

    def test_labels_feed_is_optional(self):
        cfg = plan.load_config(BASE)
        self.assertFalse(plan.has_labels_feed(cfg), "no labels_path: labels come with the events")
        with self.assertRaises(ValueError):
            plan.application_args("ingest_labels", "2026-11-08", cfg)
        cfg = plan.load_config(dict(BASE, labels_path="/data/conversions/dt={ds}", labels_format="json"))
        self.assertTrue(plan.has_labels_feed(cfg))
        self.assertEqual(plan.application_args("ingest_labels", "2026-11-08", cfg),
                         ["ingest-labels", "--date", "2026-11-08", "--input", "/data/conversions/dt=2026-11-08",
                          "--format", "json"])
        for bad in ({"labels_path": "/data/conversions"}, {"labels_format": "xml"}):
            with self.assertRaises(ValueError):
                plan.load_config(dict(BASE, **bad))

    def test_spark_submit_command_line(self):
        cfg = plan.load_config(dict(BASE, overlay="prod.conf", shadow=True,
                                    nightscore_conf={"nightscore.warehouse": "s3a://b/ns"},
                                    spark_conf={"spark.executor.memory": "16g"}))
        self.assertEqual(plan.spark_submit_argv("score", "2026-11-08", cfg), [
            "spark-submit", "--conf", "spark.executor.memory=16g", "--class", "io.nightscore.jobs.Main",
            "/opt/ns/nightscore-jobs.jar", "--config", "prod.conf", "--conf", "nightscore.warehouse=s3a://b/ns",
            "score", "--date", "2026-11-08", "--shadow"])
        local = plan.local_argv("score", "2026-11-08", cfg, launcher="bin/nightscore")
        self.assertEqual(local[0], "bin/nightscore")
        self.assertEqual(local[-8:], plan.application_args("score", "2026-11-08", cfg),
                         "the local runner passes the DAG's application arguments unchanged")

    def test_gpu_is_a_profile_not_a_second_dag(self):
        with open(os.path.join(HERE, "..", "nightscore.example.json"), encoding="utf-8") as f:
            example = json.load(f)
        cpu = plan.load_config(example)
        gpu = plan.load_config(dict(example, profile="gpu"))
        self.assertNotIn("spark.plugins", plan.spark_conf(cpu))
        self.assertEqual(plan.spark_conf(gpu)["spark.plugins"], "com.nvidia.spark.SQLPlugin")
        self.assertEqual(plan.spark_conf(gpu)["spark.executor.resource.gpu.amount"], "1")
        self.assertIn("nightscore.xgboost.device=cuda", plan.application_args("retrain", "2026-11-08", gpu))
        # Training tasks get a whole GPU each (XGBoost's own stage-level scheduling covers standalone only);
        # the other jobs share GPUs between the executor's tasks.
        self.assertEqual(plan.spark_conf(gpu, "retrain")["spark.task.resource.gpu.amount"], "1")
        self.assertEqual(plan.spark_conf(gpu, "score")["spark.task.resource.gpu.amount"], "0.125")
        self.assertIn("spark.task.resource.gpu.amount=1", plan.spark_submit_argv("retrain", "2026-11-08", gpu))
        self.assertEqual(plan.spark_conf(cpu, "retrain"), plan.spark_conf(cpu, "score"))
        with self.assertRaisesRegex(ValueError, "unknown tasks \\['retrian'\\]"):
            plan.load_config(dict(example, task_spark_conf={"retrian": {"spark.task.cpus": "2"}}))
        self.assertNotIn("nightscore.xgboost.device=cuda", plan.application_args("retrain", "2026-11-08", cpu))

    def test_bad_dates_never_reach_a_command_line(self):
        cfg = plan.load_config(BASE)
        for bad in ("2026-13-01", "2026-11-08; rm -rf /", "20261108", None, "2026-02-30"):
            with self.assertRaises(ValueError, msg=repr(bad)):
                plan.application_args("ingest", bad, cfg)

    def test_config_is_validated(self):
        cases = [
            ({"raw_path": "/data/raw"}, "needs 'jar'"),
            (dict(BASE, raw_path="/data/raw"), "must contain {ds}"),
            (dict(BASE, raw_fromat="csv"), "unknown nightscore config keys ['raw_fromat']"),
            (dict(BASE, raw_format="xml"), "raw_format must be one of"),
            (dict(BASE, profile="tpu"), "profile 'tpu' is not in profiles"),
            (dict(BASE, nightscore_conf={"spark.x": "1"}), "start with 'nightscore.'"),
            (dict(BASE, profiles={"cpu": {}, "gpu": {"jar": "x"}}), "nightscore_conf, spark_conf and task_spark_conf only"),
        ]
        for mapping, message in cases:
            with self.assertRaises(ValueError) as raised:
                plan.load_config(mapping)
            self.assertIn(message, str(raised.exception))

    def test_unknown_task_is_refused(self):
        with self.assertRaises(ValueError):
            plan.application_args("wait_for_raw", "2026-11-08", plan.load_config(BASE))


if __name__ == "__main__":
    unittest.main()
