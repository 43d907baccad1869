#!/usr/bin/env python3
"""The single-node peer: what a data scientist would run on one box with Debian's python3-xgboost.

Reads the CSV splits `bin/nightscore evaluate --peer` exported (train window, holdout tuning half,
scored day), trains XGBoost with native categorical support and early stopping on the tuning half, and
writes its probabilities for the scored day to <dir>/pred_scored.csv (id,p). Usage:
    python3 bin/peer_xgboost.py DIR THREADS
"""
import glob
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def meta(directory):
    out = {}
    with open(os.path.join(directory, "columns.txt"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            out[key] = [v for v in value.split(",") if v]
    return out


def load(directory, split, m):
    files = sorted(glob.glob(os.path.join(directory, split, "part-*.csv")))
    if not files:
        sys.exit("peer: no CSV files under %s/%s" % (directory, split))
    dtypes = {c: "float64" for c in m["numeric"]}
    dtypes.update({c: "string" for c in m["categorical"] + m["id"]})
    frames = [pd.read_csv(f, dtype=dtypes, keep_default_na=True) for f in files]
    return pd.concat(frames, ignore_index=True)


def matrix(frame, m, categories):
    x = frame[m["numeric"] + m["categorical"]].copy()
    for c in m["categorical"]:
        x[c] = pd.Categorical(x[c], categories=categories[c])
    label = frame[m["label"][0]].astype("float64") if m["label"][0] in frame else None
    return xgb.DMatrix(x, label=label, enable_categorical=True, missing=np.nan)


def main():
    directory, threads = sys.argv[1], int(sys.argv[2])
    m = meta(directory)
    t0 = time.time()
    train = load(directory, "train", m)
    tune = load(directory, "tune", m)
    scored = load(directory, "scored", m)
    categories = {c: pd.Index(train[c].dropna().unique()) for c in m["categorical"]}
    dtrain, dtune, dscored = (matrix(f, m, categories) for f in (train, tune, scored))
    t1 = time.time()
    params = {
        "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
        "eta": 0.1, "max_depth": 6, "max_bin": 256, "nthread": threads, "seed": 7,
        # Regularisation a practitioner adds for high-cardinality categoricals and ~1% positives.
        "min_child_weight": 5.0, "lambda": 5.0, "max_cat_to_onehot": 4, "max_cat_threshold": 64,
    }
    booster = xgb.train(params, dtrain, num_boost_round=300, evals=[(dtune, "tune")],
                        early_stopping_rounds=20, verbose_eval=False)
    t2 = time.time()
    p = booster.predict(dscored, iteration_range=(0, booster.best_iteration + 1))
    pd.DataFrame({"id": scored[m["id"][0]], "p": p}).to_csv(os.path.join(directory, "pred_scored.csv"), index=False)
    print("peer: xgboost %s, %d train rows, %d rounds (best %d), load %.1f s, train %.1f s"
          % (xgb.__version__, len(train), booster.num_boosted_rounds(), booster.best_iteration, t1 - t0, t2 - t1))


if __name__ == "__main__":
    main()
