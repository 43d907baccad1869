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
                   "airflow.sensors.filesystem", "nightscore_plan"}


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

    def test_sensor_reschedules_instead_of_holding_a_slot(self):
        sensor = next(n for n in ast.walk(self.tree)
                      if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "FileSensor")
        kw = {k.arg: k.value for k in sensor.keywords}
        self.assertEqual(kw["mode"].value, "reschedule")
        self.assertEqual(kw["task_id"].value, plan.TASKS[0])

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
        self.assertEqual(names, list(plan.TASKS), "wait_for_raw >> ingest >> retrain >> score >> maintain >> check")

    def test_spark_tasks_come_from_the_plan(self):
        self.assertIn("for task in plan.SPARK_TASKS", self.source)
        self.assertIn("plan.application_args(", self.source)
        self.assertIn("max_active_tis_per_dag=1 if task == \"retrain\"", self.source)


if __name__ == "__main__":
    unittest.main()
