#!/usr/bin/env python3
"""Runs the nightly DAG's commands for one or more dates without Airflow.

For each date, the tasks of nightscore_plan run in DAG order through bin/nightscore (the same application
arguments the DAG passes to spark-submit). Dates run in the order given, up to --parallel at a time; like the
DAG, only one retrain runs at a time (max_active_tis_per_dag=1) and a failed task is retried (--retries,
--retry-delay). Prints one line per task and exits 1 if any date failed.

  python3 airflow/run_local.py --config airflow/local.json --date 2026-11-04 --date 2026-11-03 --parallel 2
"""
import argparse
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "dags"))
import nightscore_plan as plan  # noqa: E402

PRINT = threading.Lock()


def log(msg):
    with PRINT:
        print(msg, flush=True)


def wait_for(path, timeout, poll=2.0):
    """The sensor: the raw path exists (local paths and file: URLs)."""
    local = path[len("file:"):] if path.startswith("file:") else path
    deadline = time.monotonic() + timeout
    while not os.path.exists(local):
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def run_date(ds, cfg, args, retrain_lock):
    for task in args.tasks:
        started = time.monotonic()
        if task == "labels_feed" or (task in plan.LABEL_TASKS and not plan.has_labels_feed(cfg)):
            # The DAG's ShortCircuitOperator: without a labels feed the labels branch is skipped.
            log("%s %-12s %s" % (ds, task, "ok" if plan.has_labels_feed(cfg) else "skipped (no labels_path)"))
            continue
        if task in ("wait_for_raw", "wait_for_labels"):
            path = plan.raw_path(ds, cfg) if task == "wait_for_raw" else plan.labels_path(ds, cfg)
            ok = wait_for(path, args.sensor_timeout)
            log("%s %-12s %s in %.0f s" % (ds, task, "ok" if ok else "TIMEOUT", time.monotonic() - started))
            if not ok:
                return False
            continue
        argv = plan.local_argv(task, ds, cfg, launcher=args.launcher)
        for attempt in range(1, args.retries + 2):
            lock = retrain_lock if task == "retrain" else None
            if lock:
                lock.acquire()
            try:
                out_path = os.path.join(args.logs, "%s-%s-%d.log" % (ds, task, attempt))
                with open(out_path, "w") as out:
                    code = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT)
            finally:
                if lock:
                    lock.release()
            log("%s %-12s exit %d (attempt %d) in %.0f s, log %s" % (ds, task, code, attempt,
                                                                  time.monotonic() - started, out_path))
            if code == 0:
                break
            if attempt <= args.retries:
                time.sleep(args.retry_delay)
        else:
            return False
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="JSON config, the same shape as the Airflow Variable 'nightscore'")
    p.add_argument("--date", action="append", required=True, help="logical date yyyy-mm-dd (repeatable)")
    p.add_argument("--parallel", type=int, default=1, help="dates running at the same time (max_active_runs)")
    p.add_argument("--tasks", default=",".join(plan.TASKS), help="comma list, a subset of " + ",".join(plan.TASKS))
    p.add_argument("--launcher", default=os.path.join(os.path.dirname(HERE), "bin", "nightscore"))
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--retry-delay", type=float, default=15.0, help="seconds")
    p.add_argument("--sensor-timeout", type=float, default=60.0, help="seconds")
    p.add_argument("--logs", default=os.environ.get("TMPDIR", "/tmp"), help="folder for each task's output")
    args = p.parse_args(argv)
    args.tasks = [t for t in args.tasks.split(",") if t]
    unknown = [t for t in args.tasks if t not in plan.TASKS]
    if unknown:
        p.error("unknown tasks %s; tasks are %s" % (unknown, ",".join(plan.TASKS)))
    args.tasks = [t for t in plan.TASKS if t in args.tasks]  # always DAG order
    cfg = plan.load_config_file(args.config)
    for ds in args.date:
        plan.check_ds(ds)
    os.makedirs(args.logs, exist_ok=True)
    retrain_lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        results = dict(zip(args.date, pool.map(lambda ds: run_date(ds, cfg, args, retrain_lock), args.date)))
    for ds, ok in results.items():
        log("%s %s" % (ds, "succeeded" if ok else "FAILED"))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
