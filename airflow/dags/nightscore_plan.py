"""The nightly plan of nightscore, without Airflow: which tasks run, in which order, with which command lines.

The DAG (nightscore_dag.py) and the local runner (airflow/run_local.py) both build their commands here, so
what runs locally is exactly what the DAG submits. Pure Python, standard library only.
"""
import copy
import datetime
import json
import re

# Task ids in DAG order; each runs after the one before it. labels_feed skips the labels branch (wait_for_labels,
# ingest_labels) when the config has no labels_path; monitor runs either way.
TASKS = ("wait_for_raw", "ingest", "retrain", "score", "labels_feed", "wait_for_labels", "ingest_labels", "monitor",
         "maintain", "check")
# Tasks that run a nightscore job with spark-submit (the others are sensors and the labels_feed switch).
SPARK_TASKS = ("ingest", "retrain", "score", "ingest_labels", "monitor", "maintain", "check")
# The labels branch, skipped without a labels feed.
LABEL_TASKS = ("wait_for_labels", "ingest_labels")
# Per-task timeouts in minutes: a hung job fails and is retried instead of holding its slot forever.
TIMEOUT_MINUTES = {"wait_for_raw": 12 * 60, "ingest": 60, "retrain": 180, "score": 120, "labels_feed": 5,
                   "wait_for_labels": 12 * 60, "ingest_labels": 60, "monitor": 60, "maintain": 60, "check": 30}

MAIN_CLASS = "io.nightscore.jobs.Main"
FORMATS = ("csv", "json", "parquet")

# What a config may set; anything else is refused so a typo does not silently fall back to a default.
DEFAULTS = {
    "jar": None,                 # path or URL of nightscore-jobs.jar (required)
    "raw_path": None,            # raw input of one day, with {ds} for the date (required)
    "raw_format": "csv",
    "labels_path": None,         # labels (conversions) that arrived on one day, with {ds}; optional (needs
                                 # nightscore.labels.mature-after-days > 0 in nightscore_conf or the overlay)
    "labels_format": "csv",
    "overlay": None,             # HOCON file passed as --config (environment settings), optional
    "nightscore_conf": {},       # nightscore.* keys passed as --conf key=value
    "spark_conf": {},            # spark-submit --conf settings
    "profile": "cpu",            # which entry of "profiles" to apply on top
    "profiles": {"cpu": {}},     # named variants: each may add nightscore_conf, spark_conf and task_spark_conf
    "task_spark_conf": {},       # per task id, spark-submit --conf settings for that task only
    "shadow": False,             # score --shadow
}

_DS = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_config(mapping):
    """A validated config dict from a mapping (an Airflow Variable's JSON, or a JSON file's content)."""
    unknown = sorted(set(mapping) - set(DEFAULTS))
    if unknown:
        raise ValueError("unknown nightscore config keys %s; known: %s" % (unknown, sorted(DEFAULTS)))
    cfg = copy.deepcopy(DEFAULTS)
    cfg.update(copy.deepcopy(mapping))
    for key in ("jar", "raw_path"):
        if not cfg[key]:
            raise ValueError("nightscore config needs '%s'" % key)
    if "{ds}" not in cfg["raw_path"]:
        raise ValueError("raw_path must contain {ds} (the day's date), got %r" % cfg["raw_path"])
    if cfg["raw_format"] not in FORMATS:
        raise ValueError("raw_format must be one of %s, got %r" % (FORMATS, cfg["raw_format"]))
    if cfg["labels_path"] is not None and "{ds}" not in cfg["labels_path"]:
        raise ValueError("labels_path must contain {ds} (the arrival day's date), got %r" % cfg["labels_path"])
    if cfg["labels_format"] not in FORMATS:
        raise ValueError("labels_format must be one of %s, got %r" % (FORMATS, cfg["labels_format"]))
    if cfg["profile"] not in cfg["profiles"]:
        raise ValueError("profile %r is not in profiles %s" % (cfg["profile"], sorted(cfg["profiles"])))
    for name, profile in cfg["profiles"].items():
        extra = sorted(set(profile) - {"nightscore_conf", "spark_conf", "task_spark_conf"})
        if extra:
            raise ValueError("profile %r may set nightscore_conf, spark_conf and task_spark_conf only, got %s"
                             % (name, extra))
        for tasks in (cfg["task_spark_conf"], profile.get("task_spark_conf", {})):
            unknown_tasks = sorted(set(tasks) - set(SPARK_TASKS))
            if unknown_tasks:
                raise ValueError("task_spark_conf names unknown tasks %s; spark tasks are %s"
                                 % (unknown_tasks, list(SPARK_TASKS)))
    for key, _ in _nightscore_conf(cfg).items():
        if not key.startswith("nightscore."):
            raise ValueError("nightscore_conf keys start with 'nightscore.', got %r" % key)
    return cfg


def load_config_file(path):
    with open(path, encoding="utf-8") as f:
        return load_config(json.load(f))


def check_ds(ds):
    """The logical date as yyyy-mm-dd, refusing anything else before it reaches a command line."""
    if not isinstance(ds, str) or not _DS.match(ds):
        raise ValueError("ds must be yyyy-mm-dd, got %r" % (ds,))
    datetime.date.fromisoformat(ds)
    return ds


def raw_path(ds, cfg):
    return cfg["raw_path"].replace("{ds}", check_ds(ds))


def _nightscore_conf(cfg):
    merged = dict(cfg["nightscore_conf"])
    merged.update(cfg["profiles"][cfg["profile"]].get("nightscore_conf", {}))
    return merged


def has_labels_feed(cfg):
    """Whether labels arrive in their own feed (labels_path set): labels_feed lets the labels branch run."""
    return bool(cfg["labels_path"])


def labels_path(ds, cfg):
    """The labels that arrived on ds."""
    return cfg["labels_path"].replace("{ds}", check_ds(ds))


def spark_conf(cfg, task=None):
    """spark-submit --conf settings: the config's, then the profile's (e.g. the RAPIDS plugin for gpu), then
    those of the task (e.g. one GPU per training task for retrain on YARN or Kubernetes)."""
    profile = cfg["profiles"][cfg["profile"]]
    merged = {}
    for layer in (cfg["spark_conf"], profile.get("spark_conf", {}),
                  cfg["task_spark_conf"].get(task, {}), profile.get("task_spark_conf", {}).get(task, {})):
        merged.update({k: str(v) for k, v in layer.items()})
    return merged


def application_args(task, ds, cfg):
    """The arguments after the jar on the spark-submit command line of one task for one date."""
    check_ds(ds)
    if task not in SPARK_TASKS:
        raise ValueError("%r is not a spark task; spark tasks are %s" % (task, SPARK_TASKS))
    args = []
    if cfg["overlay"]:
        args += ["--config", cfg["overlay"]]
    for key, value in sorted(_nightscore_conf(cfg).items()):
        args += ["--conf", "%s=%s" % (key, value)]
    args += [task.replace("_", "-"), "--date", ds]
    if task == "ingest":
        args += ["--input", raw_path(ds, cfg), "--format", cfg["raw_format"]]
    if task == "ingest_labels":
        if not has_labels_feed(cfg):
            raise ValueError("ingest_labels needs labels_path in the config")
        args += ["--input", labels_path(ds, cfg), "--format", cfg["labels_format"]]
    if task == "score" and cfg["shadow"]:
        args += ["--shadow"]
    return args


def spark_submit_argv(task, ds, cfg, spark_submit="spark-submit"):
    """The full spark-submit command line the DAG's SparkSubmitOperator runs (its connection adds --master)."""
    argv = [spark_submit]
    for key, value in sorted(spark_conf(cfg, task).items()):
        argv += ["--conf", "%s=%s" % (key, value)]
    return argv + ["--class", MAIN_CLASS, cfg["jar"]] + application_args(task, ds, cfg)


def local_argv(task, ds, cfg, launcher="bin/nightscore"):
    """The same job through bin/nightscore (Spark's SparkSubmit, local mode): same application arguments;
    the spark settings become --conf spark.*=v, which nightscore applies to its session."""
    argv = [launcher]
    for key, value in sorted(spark_conf(cfg, task).items()):
        argv += ["--conf", "%s=%s" % (key, value)]
    return argv + application_args(task, ds, cfg)
