-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 04 Drift
-- MAGIC
-- MAGIC How far the days' inputs and scores moved away from what the scoring model was trained on: the most drifted
-- MAGIC features over time, new categories (values outside the model's vocabulary), and drift of the scores themselves.
-- MAGIC
-- MAGIC `monitor --date D` compares day D with the baseline stored with the model that scored it
-- MAGIC (`docs/monitoring.md`): the population stability index PSI = Σ (a − e) ln(a / e) over the feature's bins,
-- MAGIC `ok` below 0.1, `warn` below 0.25, else `alert` (`check` fails on an alert of its day). A clean day stays near
-- MAGIC (bins − 1) ÷ rows.
-- MAGIC
-- MAGIC **Parameters**
-- MAGIC
-- MAGIC - `database`: the catalog database holding the nightscore tables (`nightscore` by default).
-- MAGIC - `run_date`: the day under study, `yyyy-MM-dd`; empty means the latest scored day (`max(dt)` of `scores`).
-- MAGIC   The per-day tables and charts show the 30 days that end on it.

-- COMMAND ----------

-- param database: identifier
CREATE WIDGET TEXT database DEFAULT 'nightscore';
-- param run_date: date
CREATE WIDGET TEXT run_date DEFAULT '';

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The most drifted features
-- MAGIC
-- MAGIC The 20 input features with the highest PSI on any day of the 30 days ending on the day under study (the scores,
-- MAGIC feature `_score`, have their own section below): the worst PSI and its day, the PSI on the day under study, and
-- MAGIC on how many days the feature was at `warn` or `alert`. Then the PSI per day of the 5 worst, as a chart, and every
-- MAGIC feature of the day under study with its shares of nulls and mean against the baseline.

-- COMMAND ----------

-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
w AS (
  SELECT * FROM ${database}.monitor_drift
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day) AND kind <> 'score'
)
SELECT
  feature,
  kind,
  round(max(psi), 4) AS max_psi,
  max_by(dt, psi) AS worst_day,
  round(max(CASE WHEN dt = (SELECT d FROM study_day) THEN psi END), 4) AS psi_on_day,
  count_if(status = 'warn') AS warn_days,
  count_if(status = 'alert') AS alert_days,
  count(DISTINCT dt) AS monitored_days
FROM w
GROUP BY feature, kind
ORDER BY max_psi DESC, feature
LIMIT 20

-- COMMAND ----------

-- chart: line x=dt y=psi series=feature
-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
w AS (
  SELECT dt, feature, psi FROM ${database}.monitor_drift
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day) AND kind <> 'score'
),
top_features AS (
  SELECT feature FROM w GROUP BY feature ORDER BY max(psi) DESC, feature LIMIT 5
)
SELECT w.dt, w.feature, round(max(w.psi), 4) AS psi
FROM w
JOIN top_features ON top_features.feature = w.feature
GROUP BY w.dt, w.feature
ORDER BY w.dt, w.feature

-- COMMAND ----------

-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  model_version,
  feature,
  kind,
  `rows` AS monitored_rows,
  bins,
  round(psi, 4) AS psi,
  status,
  round(null_share, 4) AS null_share,
  round(baseline_null_share, 4) AS baseline_null_share,
  round(mean, 4) AS mean,
  round(baseline_mean, 4) AS baseline_mean
FROM ${database}.monitor_drift
WHERE dt = (SELECT d FROM study_day) AND kind <> 'score'
ORDER BY psi DESC, feature
LIMIT 100

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## New categories
-- MAGIC
-- MAGIC For every categorical feature `monitor` watched (`kind = 'categorical'`), `unseen_share` is the share of the
-- MAGIC day's rows whose value is outside the model's vocabulary (never seen in its training window, or too rare
-- MAGIC there to get a code of its own), against `baseline_unseen_share`, the same share in the training window's
-- MAGIC sample (rare values make it above 0). A new category shows as `unseen_increase` > 0, and
-- MAGIC `new_category_rows` estimates how many of the day's rows carry one. First the day under study, then the
-- MAGIC unseen share per day of the 5 categoricals whose share rose most over the 30 days.

-- COMMAND ----------

-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  model_version,
  feature,
  `rows` AS monitored_rows,
  round(unseen_share, 4) AS unseen_share,
  round(baseline_unseen_share, 4) AS baseline_unseen_share,
  round(unseen_share - baseline_unseen_share, 4) AS unseen_increase,
  cast(round(greatest(unseen_share - baseline_unseen_share, 0) * `rows`) AS BIGINT) AS new_category_rows,
  round(null_share, 4) AS null_share,
  round(baseline_null_share, 4) AS baseline_null_share,
  round(psi, 4) AS psi,
  status
FROM ${database}.monitor_drift
WHERE dt = (SELECT d FROM study_day) AND kind = 'categorical'
ORDER BY unseen_share - baseline_unseen_share DESC, feature
LIMIT 100

-- COMMAND ----------

-- chart: line x=dt y=unseen_share series=feature
-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
w AS (
  SELECT dt, feature, unseen_share, baseline_unseen_share FROM ${database}.monitor_drift
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day) AND kind = 'categorical'
),
top_features AS (
  SELECT feature FROM w
  GROUP BY feature
  ORDER BY max(unseen_share - baseline_unseen_share) DESC, feature
  LIMIT 5
)
SELECT
  w.dt,
  w.feature,
  round(max(w.unseen_share), 4) AS unseen_share,
  round(max(w.baseline_unseen_share), 4) AS baseline_unseen_share
FROM w
JOIN top_features ON top_features.feature = w.feature
GROUP BY w.dt, w.feature
ORDER BY w.dt, w.feature

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Drift from the events themselves
-- MAGIC
-- MAGIC Without `monitor` (a warehouse where it never ran, or a day it skipped) the same questions have an answer from
-- MAGIC `events` alone: every feature of the day under study against the 7 days before it. A feature whose values all
-- MAGIC read as numbers is cut into ten bins at the reference days' deciles; any other is a categorical, binned by its
-- MAGIC 20 most frequent reference values, the rest of the reference's values, and values the reference never had
-- MAGIC (a categorical whose values all look like numbers is binned as a number);
-- MAGIC nulls are a bin of their own. The PSI over those bins (shares floored at 0.0001) reads like `monitor`'s:
-- MAGIC `ok` below 0.1, `warn` below 0.25, else `alert`. `new_value_share` is the share of the day's rows whose value
-- MAGIC the 7 days before never had, with up to 5 of those values. The reference is the week before, not the model's
-- MAGIC training window, so the figures differ from `monitor_drift`'s; the cell reads every event of 8 days, so on a
-- MAGIC large table prefer `monitor_drift`. The feature names are the columns of `events` other than the default
-- MAGIC schema's id, time and label (`event_id`, `event_time`, `converted`); with another schema, replace them.

-- COMMAND ----------

-- chart: bar x=feature y=psi
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
rows_as_maps AS (
  SELECT
    dt = (SELECT d FROM study_day) AS on_day,
    from_json(to_json(struct(*), map('ignoreNullFields', 'false')), 'map<string,string>') AS m
  FROM ${database}.events
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 7) AND (SELECT d FROM study_day)
),
cells AS (
  SELECT r.on_day, kv.key AS feature, kv.value AS value
  FROM rows_as_maps r
  LATERAL VIEW explode(r.m) kv AS key, value
  WHERE kv.key NOT IN ('event_id', 'event_time', 'converted', 'dt', 'ingested_at')
),
kinds AS (
  SELECT
    feature,
    CASE WHEN bool_and(value IS NULL OR try_cast(value AS DOUBLE) IS NOT NULL) THEN 'numeric' ELSE 'categorical' END
      AS kind,
    percentile_approx(CASE WHEN NOT on_day THEN try_cast(value AS DOUBLE) END,
      array(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), 10000) AS edges
  FROM cells
  GROUP BY feature
),
reference_values AS (
  SELECT c.feature, c.value, row_number() OVER (PARTITION BY c.feature ORDER BY count(*) DESC, c.value) AS r
  FROM cells c
  JOIN kinds k ON k.feature = c.feature AND k.kind = 'categorical'
  WHERE NOT c.on_day AND c.value IS NOT NULL
  GROUP BY c.feature, c.value
),
binned AS (
  SELECT
    c.on_day,
    c.feature,
    k.kind,
    c.value,
    k.kind = 'categorical' AND rv.value IS NULL AND c.value IS NOT NULL AS new_value,
    CASE
      WHEN c.value IS NULL THEN 'null'
      WHEN k.kind = 'numeric' THEN cast(size(filter(array_distinct(k.edges), x -> try_cast(c.value AS DOUBLE) > x)) AS STRING)
      WHEN rv.r <= 20 THEN concat('=', c.value)
      WHEN rv.value IS NOT NULL THEN 'other'
      ELSE 'unseen'
    END AS bin
  FROM cells c
  JOIN kinds k ON k.feature = c.feature
  LEFT JOIN reference_values rv ON rv.feature = c.feature AND rv.value = c.value
),
shares AS (
  SELECT
    feature,
    kind,
    bin,
    try_divide(count_if(NOT on_day), sum(count_if(NOT on_day)) OVER (PARTITION BY feature)) AS reference_share,
    try_divide(count_if(on_day), sum(count_if(on_day)) OVER (PARTITION BY feature)) AS day_share
  FROM binned
  GROUP BY feature, kind, bin
),
psi AS (
  SELECT
    feature,
    kind,
    count(*) AS bins,
    sum((greatest(day_share, 0.0001) - greatest(reference_share, 0.0001))
      * ln(greatest(day_share, 0.0001) / greatest(reference_share, 0.0001))) AS psi,
    max(CASE WHEN bin = 'null' THEN reference_share END) AS reference_null_share,
    max(CASE WHEN bin = 'null' THEN day_share END) AS null_share
  FROM shares
  GROUP BY feature, kind
),
new_values AS (
  SELECT
    feature,
    count_if(new_value) / count(*) AS new_value_share,
    slice(array_sort(collect_set(CASE WHEN new_value THEN value END)), 1, 5) AS some_new_values
  FROM binned
  WHERE on_day
  GROUP BY feature
)
SELECT
  p.feature,
  p.kind,
  p.bins,
  round(p.psi, 4) AS psi,
  CASE WHEN p.psi IS NULL THEN 'no reference days' WHEN p.psi < 0.1 THEN 'ok' WHEN p.psi < 0.25 THEN 'warn'
    ELSE 'alert' END AS status,
  round(coalesce(p.null_share, 0), 4) AS null_share,
  round(coalesce(p.reference_null_share, 0), 4) AS reference_null_share,
  round(CASE WHEN p.kind = 'categorical' THEN n.new_value_share END, 4) AS new_value_share,
  CASE WHEN p.kind = 'categorical' THEN concat_ws(', ', n.some_new_values) END AS some_new_values
FROM psi p
JOIN new_values n ON n.feature = p.feature
ORDER BY p.psi DESC, p.feature
LIMIT 60

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Score drift
-- MAGIC
-- MAGIC First what `monitor` recorded for the scores (feature `_score`): their PSI against the holdout day's score
-- MAGIC deciles of the model, and the mean score against the holdout's. Then the same question answered from `scores`
-- MAGIC itself, on any scored day whether `monitor` ran or not: mean and quantiles per day next to the scoring
-- MAGIC model's mean score on its holdout evaluation half (`models.holdout_mean_score`, as `baseline_mean_score`;
-- MAGIC `monitor`'s baseline is a sample of the whole holdout day, so the two differ slightly). A mean that moves
-- MAGIC while the model stays the same means the population changed; compare with the realized calibration in 03
-- MAGIC before concluding the model is wrong.

-- COMMAND ----------

-- chart: line x=dt y=psi
-- requires: monitor_drift
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  model_version,
  `rows` AS monitored_rows,
  bins,
  round(psi, 4) AS psi,
  status,
  round(mean, 5) AS mean_score,
  round(baseline_mean, 5) AS baseline_mean_score,
  round(mean / nullif(baseline_mean, 0), 4) AS mean_ratio
FROM ${database}.monitor_drift
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day) AND feature = '_score'
ORDER BY dt, model_version

-- COMMAND ----------

-- chart: line x=dt y=mean_score,baseline_mean_score,p50,p90
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
q AS (
  SELECT
    dt,
    model_version,
    count(*) AS scored,
    avg(score) AS mean_score,
    percentile_approx(score, array(0.1, 0.25, 0.5, 0.75, 0.9, 0.99)) AS p
  FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt, model_version
)
SELECT
  q.dt,
  q.model_version,
  q.scored,
  round(q.mean_score, 5) AS mean_score,
  round(m.holdout_mean_score, 5) AS baseline_mean_score,
  round(q.mean_score / nullif(m.holdout_mean_score, 0), 4) AS mean_ratio,
  round(q.p[0], 5) AS p10,
  round(q.p[1], 5) AS p25,
  round(q.p[2], 5) AS p50,
  round(q.p[3], 5) AS p75,
  round(q.p[4], 5) AS p90,
  round(q.p[5], 5) AS p99
FROM q
LEFT JOIN ${database}.models m ON m.version = q.model_version
ORDER BY q.dt, q.model_version
