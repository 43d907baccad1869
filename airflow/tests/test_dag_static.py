"""The DAG file, read with ast (Airflow is not installed here): what it imports, that it wires every task of
the plan in order, and the scheduling settings that make reruns and backfills safe."""
import ast
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DAG_FILE = os.path.join(HERE, "..", "dags", "nightscore_dag.py")
sys.path.insert(0, os.path.join(HERE, "..", "dags"))
import nightscore_plan as plan  # noqa: E402

ALLOWED_IMPORTS = {"datetime", "pendulum", "airflow", "airflow.providers.apache.spark.operators.spark_submit",
                   "airflow.sensors.filesystem", "airflow.operators.python", "nightscore_plan"}


class DagStaticTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DAG_FILE, encoding="utf-8") as f:
            cls.source = f.read()
        cls.tree = ast.parse(cls.source, DAG_FILE)

    def test_imports_only_airflow_the_provider_and_the_plan(self):
        imported = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module)
        self.assertLessEqual(imported, ALLOWED_IMPORTS, "unexpected imports: %s" % (imported - ALLOWED_IMPORTS))
        self.assertIn("airflow.providers.apache.spark.operators.spark_submit", imported)

    def test_dag_settings(self):
        call = next(n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "DAG")
        kw = {k.arg: k.value for k in call.keywords}
        self.assertIs(kw["catchup"].value, True, "catchup: a missed night runs later")
        self.assertEqual(kw["schedule"].value, "@daily")
        self.assertIsInstance(kw["max_active_runs"].value, int)
        self.assertIs(kw["render_template_as_native_obj"].value, True, "argument lists render as lists")
        self.assertIn("doc_md", kw)
        self.assertNotIn("now(", self.source, "no clock at parse time")
        self.assertNotIn("Variable.get", self.source, "configuration is read at run time, in templates")

    def test_sensors_reschedule_instead_of_holding_a_slot(self):
        sensors = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "FileSensor"]
        ids = []
        for sensor in sensors:
            kw = {k.arg: k.value for k in sensor.keywords}
            self.assertEqual(kw["mode"].value, "reschedule")
            ids.append(kw["task_id"].value)
        self.assertEqual(ids, ["wait_for_raw", "wait_for_labels"])

    def test_no_labels_feed_skips_only_the_labels_branch(self):
        switch = next(n for n in ast.walk(self.tree)
                      if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "ShortCircuitOperator")
        kw = {k.arg: k.value for k in switch.keywords}
        self.assertEqual(kw["task_id"].value, "labels_feed")
        self.assertIs(kw["ignore_downstream_trigger_rules"].value, False, "skip the next task only")
        self.assertIn('trigger_rule="none_failed" if task == "monitor"', self.source,
                      "monitor runs when the labels branch was skipped")
        self.assertEqual(plan.LABEL_TASKS, plan.TASKS[plan.TASKS.index("labels_feed") + 1:
                                                      plan.TASKS.index("monitor")])

    def test_every_plan_task_is_wired_in_order(self):
        # The last statement of the DAG block is the chain a >> b >> ...; read its operands in order.
        chains = [n.value for n in ast.walk(self.tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.BinOp)]
        self.assertEqual(len(chains), 1, "one chain")
        operands = []

        def flatten(node):
            if isinstance(node, ast.BinOp):
                self.assertIsInstance(node.op, ast.RShift)
                flatten(node.left)
                flatten(node.right)
            else:
                operands.append(node)

        flatten(chains[0])
        names = [o.id if isinstance(o, ast.Name) else o.slice.value for o in operands]
        self.assertEqual(names, list(plan.TASKS), "the chain follows plan.TASKS")

    def test_spark_tasks_come_from_the_plan(self):
        self.assertIn("for task in plan.SPARK_TASKS", self.source)
        self.assertIn("plan.application_args(", self.source)
        self.assertIn("max_active_tis_per_dag=1 if task == \"retrain\"", self.source)


if __name__ == "__main__":
    unittest.main()
