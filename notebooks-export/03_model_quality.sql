-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 03 Model quality
-- MAGIC
-- MAGIC How well the scores predicted the conversions that happened: reliability by score decile on the day under
-- MAGIC study, realized AUC and calibration by day and model version (from `monitor_quality`, and the same figures
-- MAGIC computed directly from `scores` and the labels the events came with), and calibration by segment.
-- MAGIC
-- MAGIC Calibration is Σscore ÷ Σlabel (expected ÷ actual conversions): 1 is perfect, above 1 the model
-- MAGIC over-predicts. The gate and `monitor` accept [0.8, 1.25]. See `docs/model-quality.md` and `docs/monitoring.md`.
-- MAGIC
-- MAGIC The direct computations use the label column of `events` (`converted`, joined on the id `event_id` and `dt`):
-- MAGIC with labels that arrive later (`nightscore.labels.mature-after-days` > 0) events may come without one, and
-- MAGIC only `monitor_quality` counts the labels that arrived afterwards.
-- MAGIC
-- MAGIC **Parameters**
-- MAGIC
-- MAGIC - `database`: the catalog database holding the nightscore tables (`nightscore` by default).
-- MAGIC - `run_date`: the day under study, `yyyy-MM-dd`; empty means the latest scored day (`max(dt)` of `scores`).
-- MAGIC   The per-day tables show the 30 days that end on it.
-- MAGIC - `segment`: a categorical feature of the schema to break calibration down by (default `geo_country`).

-- COMMAND ----------

-- param database: identifier
CREATE WIDGET TEXT database DEFAULT 'nightscore';
-- param run_date: date
CREATE WIDGET TEXT run_date DEFAULT '';
-- param segment: categorical
CREATE WIDGET TEXT segment DEFAULT 'geo_country';

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Reliability by score decile
-- MAGIC
-- MAGIC The day's labelled events cut into ten groups of about equal size by score (approximate deciles, so the
-- MAGIC groups are close to, not exactly, a tenth each). A calibrated model has `mean_score` ≈ `actual_rate` in every
-- MAGIC decile, and a model that ranks well has `actual_rate` rising with the decile. With few positives per decile
-- MAGIC the rate is noisy: its standard error is about √(rate ÷ rows).

-- COMMAND ----------

-- chart: line x=decile y=mean_score,actual_rate
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
labelled AS (
  SELECT s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt = (SELECT d FROM study_day) AND e.dt = (SELECT d FROM study_day) AND e.converted IS NOT NULL
),
edges AS (
  SELECT percentile_approx(score, array(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), 10000) AS e
  FROM labelled
),
bucketed AS (
  SELECT 1 + size(filter(edges.e, x -> labelled.score > x)) AS decile, labelled.score, labelled.label
  FROM labelled
  CROSS JOIN edges
)
SELECT
  decile,
  count(*) AS events,
  round(min(score), 5) AS score_from,
  round(max(score), 5) AS score_to,
  round(avg(score), 5) AS mean_score,
  round(avg(label), 5) AS actual_rate,
  round(sum(score), 2) AS expected_conversions,
  sum(label) AS actual_conversions,
  round(sum(score) / nullif(sum(label), 0), 4) AS calibration
FROM bucketed
GROUP BY decile
ORDER BY decile

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Realized quality by day and model version (`monitor_quality`)
-- MAGIC
-- MAGIC What `monitor` recorded for each scored day of the 30 days ending on the day under study, per model version
-- MAGIC and scorer (`scores`: the champion's scores; `scores_shadow`: a challenger's): AUC against the model's holdout
-- MAGIC AUC, log loss, normalized entropy (log loss ÷ the entropy of the base rate; below 1 = better than the rate
-- MAGIC alone) and calibration. `mature` is false while labels may still arrive (`status` is then `provisional`);
-- MAGIC `insufficient` means fewer than 30 positives. Then the calibration per day: `monitor` alerts when it is
-- MAGIC outside [0.8, 1.25] by more than 3 standard errors (`standard_errors_from_1` = |ln calibration| · √positives).

-- COMMAND ----------

-- chart: line x=dt y=auc series=model
-- requires: monitor_quality
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  concat('v', cast(model_version AS STRING), ' ', scorer) AS model,
  model_version,
  scorer,
  labelled_rows,
  positives,
  mature,
  round(auc, 4) AS auc,
  round(holdout_auc, 4) AS holdout_auc,
  round(auc - holdout_auc, 4) AS auc_change,
  round(log_loss, 5) AS log_loss,
  round(normalized_entropy, 4) AS normalized_entropy,
  round(calibration, 4) AS calibration,
  status,
  detail,
  run_date
FROM ${database}.monitor_quality
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
ORDER BY dt, model_version, scorer

-- COMMAND ----------

-- chart: line x=dt y=calibration series=model
-- requires: monitor_quality
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  concat('v', cast(model_version AS STRING), ' ', scorer) AS model,
  positives,
  round(calibration, 4) AS calibration,
  round(abs(ln(calibration)) * sqrt(positives), 2) AS standard_errors_from_1,
  status
FROM ${database}.monitor_quality
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
ORDER BY dt, model

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Realized quality computed from the scored days' labels
-- MAGIC
-- MAGIC Until `monitor` runs (or where its tables are missing) the same figures come from the scored days that carry
-- MAGIC labels: `scores` joined with the events' own label (a challenger's shadow scores are in `monitor_quality`
-- MAGIC once monitor runs). First calibration
-- MAGIC (Σscore ÷ Σlabel) per day and model version, then AUC and log loss.
-- MAGIC
-- MAGIC AUC is the Mann–Whitney statistic from ranks: AUC = (R₊ − P(P + 1)/2) ÷ (P·N), R₊ being the sum of the
-- MAGIC positives' ranks by ascending score, P the positives and N the negatives. Events with the same score share
-- MAGIC their average rank (the rows below the tie + (tie size + 1)/2), so a tied positive–negative pair counts half,
-- MAGIC as in the exact ROC area `monitor` computes (trapezoids between distinct scores). The rows are grouped by
-- MAGIC distinct score first, so no window sorts single events. Log loss clips scores to [1e-15, 1 − 1e-15], as
-- MAGIC `monitor` does; on the same rows the figures agree with `monitor_quality`.

-- COMMAND ----------

-- chart: line x=dt y=calibration series=model
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
scored AS (
  SELECT 'scores' AS scorer, dt, event_id, model_version, score
  FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
)
SELECT
  s.dt,
  concat('v', cast(s.model_version AS STRING), ' ', s.scorer) AS model,
  s.model_version,
  s.scorer,
  count(*) AS labelled_rows,
  sum(e.converted) AS positives,
  round(sum(s.score), 2) AS expected_conversions,
  round(avg(s.score), 5) AS mean_score,
  round(avg(e.converted), 5) AS rate,
  round(sum(s.score) / nullif(sum(e.converted), 0), 4) AS calibration
FROM scored s
JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
WHERE e.converted IS NOT NULL
  AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
GROUP BY s.dt, s.model_version, s.scorer
ORDER BY s.dt, s.model_version, s.scorer

-- COMMAND ----------

-- chart: line x=dt y=auc series=model
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
scored AS (
  SELECT 'scores' AS scorer, dt, event_id, model_version, score
  FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
),
by_score AS (
  SELECT s.scorer, s.dt, s.model_version, s.score, count(*) AS n, sum(e.converted) AS pos
  FROM scored s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE e.converted IS NOT NULL
    AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY s.scorer, s.dt, s.model_version, s.score
),
ranked AS (
  SELECT
    scorer, dt, model_version, score, n, pos,
    sum(n) OVER (PARTITION BY scorer, dt, model_version ORDER BY score
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS below
  FROM by_score
),
totals AS (
  SELECT
    scorer, dt, model_version,
    sum(n) AS labelled_rows,
    sum(pos) AS positives,
    sum(pos * (below + (n + 1) / 2)) AS positive_rank_sum,
    sum(score * n) AS sum_score,
    -sum(pos * ln(least(greatest(score, 1e-15), 1 - 1e-15))
      + (n - pos) * ln(1 - least(greatest(score, 1e-15), 1 - 1e-15))) AS sum_logloss
  FROM ranked
  GROUP BY scorer, dt, model_version
)
SELECT
  dt,
  concat('v', cast(model_version AS STRING), ' ', scorer) AS model,
  model_version,
  scorer,
  labelled_rows,
  positives,
  round((positive_rank_sum - positives * (positives + 1) / 2)
    / nullif(cast(positives AS DOUBLE) * (labelled_rows - positives), 0), 4) AS auc,
  round(sum_logloss / labelled_rows, 5) AS log_loss,
  round((sum_logloss / labelled_rows)
    / nullif(-(positives / labelled_rows) * ln(positives / labelled_rows)
      - (1 - positives / labelled_rows) * ln(1 - positives / labelled_rows), 0), 4) AS normalized_entropy,
  round(sum_score / nullif(positives, 0), 4) AS calibration
FROM totals
ORDER BY dt, model_version, scorer

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Calibration by segment on the day under study
-- MAGIC
-- MAGIC The day's labelled events grouped by the `segment` column (the 30 segments with the most events; an empty
-- MAGIC value shows as `(null)`). A segment whose calibration is far from 1 is over- or under-predicted.
-- MAGIC `beyond_noise` is true when the log of the ratio is more than 3 standard errors (1/√positives) from 0,
-- MAGIC the rule `monitor` applies to a whole day; with few positives a large deviation can be chance.

-- COMMAND ----------

-- chart: bar x=segment y=calibration
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
labelled AS (
  SELECT coalesce(cast(e.${segment} AS STRING), '(null)') AS segment, s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt = (SELECT d FROM study_day) AND e.dt = (SELECT d FROM study_day) AND e.converted IS NOT NULL
)
SELECT
  segment,
  count(*) AS events,
  sum(label) AS positives,
  round(sum(score), 2) AS expected_conversions,
  round(avg(score), 5) AS mean_score,
  round(avg(label), 5) AS actual_rate,
  round(sum(score) / nullif(sum(label), 0), 4) AS calibration,
  abs(ln(sum(score) / nullif(sum(label), 0))) > 3 / sqrt(nullif(sum(label), 0)) AS beyond_noise
FROM labelled
GROUP BY segment
ORDER BY events DESC, segment
LIMIT 30
