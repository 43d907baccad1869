-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 05 For the business: expected against actual conversions
-- MAGIC
-- MAGIC Each score is a conversion probability, so the sum of a group's scores is the number of conversions the model
-- MAGIC expected from it. This notebook sets that against the conversions that happened (the events' label), by
-- MAGIC segment, for the day under study and over the 7 days that end on it, and ranks the segments by expected
-- MAGIC conversions.
-- MAGIC
-- MAGIC `actual_over_expected` = actual ÷ expected: 1 means the model's forecast held, 1.2 that the segment converted
-- MAGIC 20% more than forecast. `labelled_share` is the share of scored events that carry a label: with labels that
-- MAGIC arrive later (`nightscore.labels.mature-after-days` > 0) it is below 1 and the actual figures are still
-- MAGIC incomplete. Small segments are noisy: a segment with 10 expected conversions may well see 5 or 15.
-- MAGIC
-- MAGIC **Parameters**
-- MAGIC
-- MAGIC - `database`: the catalog database holding the nightscore tables (`nightscore` by default).
-- MAGIC - `run_date`: the day under study, `yyyy-MM-dd`; empty means the latest scored day (`max(dt)` of `scores`).
-- MAGIC - `segment`: a categorical feature of the schema to group by (default `geo_country`); an empty value shows as `(null)`.

-- COMMAND ----------

-- param database: identifier
CREATE WIDGET TEXT database DEFAULT 'nightscore';
-- param run_date: date
CREATE WIDGET TEXT run_date DEFAULT '';
-- param segment: categorical
CREATE WIDGET TEXT segment DEFAULT 'geo_country';

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The last 7 days in total
-- MAGIC
-- MAGIC Per scored day of the 7 days ending on the day under study: scored events, expected conversions (Σscore),
-- MAGIC actual conversions (Σlabel) and their ratio.

-- COMMAND ----------

-- chart: line x=dt y=expected_conversions,actual_conversions
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  s.dt,
  count(*) AS scored_events,
  round(count(e.converted) / count(*), 4) AS labelled_share,
  round(sum(s.score), 2) AS expected_conversions,
  sum(e.converted) AS actual_conversions,
  round(sum(e.converted) / nullif(sum(s.score), 0), 4) AS actual_over_expected
FROM ${database}.scores s
LEFT JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
WHERE s.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
GROUP BY s.dt
ORDER BY s.dt

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## By segment on the day under study
-- MAGIC
-- MAGIC The 50 segments with the most expected conversions on the day, with the conversions that happened. The chart
-- MAGIC shows expected and actual side by side.

-- COMMAND ----------

-- chart: bar x=segment y=expected_conversions,actual_conversions
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
joined AS (
  SELECT coalesce(cast(e.${segment} AS STRING), '(null)') AS segment, s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt = (SELECT d FROM study_day) AND e.dt = (SELECT d FROM study_day)
)
SELECT
  segment,
  count(*) AS scored_events,
  round(count(label) / count(*), 4) AS labelled_share,
  round(sum(score), 2) AS expected_conversions,
  sum(label) AS actual_conversions,
  round(sum(label) - sum(score), 2) AS actual_minus_expected,
  round(sum(label) / nullif(sum(score), 0), 4) AS actual_over_expected
FROM joined
GROUP BY segment
ORDER BY expected_conversions DESC, segment
LIMIT 50

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## By segment over the last 7 days
-- MAGIC
-- MAGIC The same over the 7 days ending on the day under study (fewer if fewer were scored), with the day under study's
-- MAGIC ratio beside the week's: a segment whose day departs from its week is worth a look. Then the week per day for
-- MAGIC the 5 segments with the most expected conversions.

-- COMMAND ----------

WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
joined AS (
  SELECT s.dt, coalesce(cast(e.${segment} AS STRING), '(null)') AS segment, s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
    AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
)
SELECT
  segment,
  count(DISTINCT dt) AS scored_days,
  count(*) AS scored_events,
  round(count(label) / count(*), 4) AS labelled_share,
  round(sum(score), 2) AS expected_conversions,
  sum(label) AS actual_conversions,
  round(sum(label) / nullif(sum(score), 0), 4) AS actual_over_expected,
  round(sum(CASE WHEN dt = (SELECT d FROM study_day) THEN label END)
    / nullif(sum(CASE WHEN dt = (SELECT d FROM study_day) THEN score END), 0), 4) AS actual_over_expected_on_day
FROM joined
GROUP BY segment
ORDER BY expected_conversions DESC, segment
LIMIT 50

-- COMMAND ----------

-- chart: line x=dt y=actual_over_expected series=segment
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
joined AS (
  SELECT s.dt, coalesce(cast(e.${segment} AS STRING), '(null)') AS segment, s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
    AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
),
top_segments AS (
  SELECT segment FROM joined GROUP BY segment ORDER BY sum(score) DESC, segment LIMIT 5
)
SELECT
  joined.dt,
  joined.segment,
  round(sum(joined.score), 2) AS expected_conversions,
  sum(joined.label) AS actual_conversions,
  round(sum(joined.label) / nullif(sum(joined.score), 0), 4) AS actual_over_expected
FROM joined
JOIN top_segments ON top_segments.segment = joined.segment
GROUP BY joined.dt, joined.segment
ORDER BY joined.dt, joined.segment

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Top segments by expected value
-- MAGIC
-- MAGIC The 20 segments the model expects the most conversions from over the 7 days, ranked, with their share of all
-- MAGIC expected conversions and the running (cumulative) share: how concentrated the expected value is. Beside them
-- MAGIC the conversions that happened and the ratio. Segments past the 20th are summed in the last row, `(others)`.

-- COMMAND ----------

-- chart: bar x=segment y=expected_conversions,actual_conversions
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
joined AS (
  SELECT coalesce(cast(e.${segment} AS STRING), '(null)') AS segment, s.score, e.converted AS label
  FROM ${database}.scores s
  JOIN ${database}.events e ON e.event_id = s.event_id AND e.dt = s.dt
  WHERE s.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
    AND e.dt BETWEEN date_sub((SELECT d FROM study_day), 6) AND (SELECT d FROM study_day)
),
per_segment AS (
  SELECT segment, count(*) AS scored_events, sum(score) AS expected, sum(label) AS actual
  FROM joined
  GROUP BY segment
),
ranked AS (
  SELECT
    *,
    row_number() OVER (ORDER BY expected DESC, segment) AS expected_rank,
    sum(expected) OVER () AS total_expected
  FROM per_segment
),
top_and_rest AS (
  SELECT
    CASE WHEN expected_rank <= 20 THEN expected_rank ELSE 21 END AS expected_rank,
    CASE WHEN expected_rank <= 20 THEN segment ELSE '(others)' END AS segment,
    sum(scored_events) AS scored_events,
    sum(expected) AS expected,
    sum(actual) AS actual,
    max(total_expected) AS total_expected
  FROM ranked
  GROUP BY 1, 2
)
SELECT
  expected_rank,
  segment,
  scored_events,
  round(expected, 2) AS expected_conversions,
  round(expected / nullif(total_expected, 0), 4) AS share_of_expected,
  round(sum(expected) OVER (ORDER BY expected_rank ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    / nullif(total_expected, 0), 4) AS cumulative_share,
  actual AS actual_conversions,
  round(actual / nullif(expected, 0), 4) AS actual_over_expected
FROM top_and_rest
ORDER BY expected_rank
