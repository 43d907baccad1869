#!/usr/bin/env python3
"""The single-process peer of `bin/nightscore bench`: Python XGBoost trained on exactly the training matrix
retrain trained on (exported as CSV: the label, then every feature as XGBoost saw it), with the same
parameters, rounds and thread count. Prints one line:
    python_xgboost rows=R features=F load_seconds=L dmatrix_seconds=D train_seconds=T
Usage: bench_train.py DIR PARAMS_JSON   (PARAMS_JSON: native parameters plus num_round and nthread)
"""
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def main():
    directory, params = sys.argv[1], json.loads(sys.argv[2])
    rounds = int(params.pop("num_round"))
    files = sorted(glob.glob(os.path.join(directory, "part-*.csv")))
    if not files:
        sys.exit("bench_train: no CSV files under %s" % directory)
    t0 = time.time()
    frame = pd.concat([pd.read_csv(f, dtype="float32") for f in files], ignore_index=True)
    t1 = time.time()
    label = frame.pop(frame.columns[0]).to_numpy()
    dtrain = xgb.DMatrix(frame.to_numpy(dtype=np.float32), label=label, missing=np.nan, nthread=params["nthread"])
    t2 = time.time()
    # Like xgboost4j-spark, report the training log loss every round.
    xgb.train(params, dtrain, num_boost_round=rounds, evals=[(dtrain, "train")], verbose_eval=False)
    t3 = time.time()
    print("python_xgboost rows=%d features=%d load_seconds=%.3f dmatrix_seconds=%.3f train_seconds=%.3f"
          % (frame.shape[0], frame.shape[1], t1 - t0, t2 - t1, t3 - t2))


if __name__ == "__main__":
    main()
