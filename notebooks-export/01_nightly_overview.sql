-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 01 Nightly overview
-- MAGIC
-- MAGIC What happened to the rows of each night: raw rows read, rows ingested into `events`, rows quarantined
-- MAGIC (by reason) and rows scored; the score distribution per day; and the nights that broke an invariant
-- MAGIC that `check --date D` verified (`check_results`).
-- MAGIC
-- MAGIC The check cells at the end list violations and return no rows on a healthy warehouse.
-- MAGIC
-- MAGIC **Parameters**
-- MAGIC
-- MAGIC - `database`: the catalog database holding the nightscore tables (`nightscore` by default).
-- MAGIC - `run_date`: the day under study, `yyyy-MM-dd`; empty means the latest scored day (`max(dt)` of `scores`).
-- MAGIC   The per-day tables show the 30 days that end on it.

-- COMMAND ----------

-- param database: identifier
CREATE WIDGET TEXT database DEFAULT 'nightscore';
-- param run_date: date
CREATE WIDGET TEXT run_date DEFAULT '';

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Rows per night
-- MAGIC
-- MAGIC One row per day of the 30 days ending on the day under study. `raw_rows` is the raw row count the ingest
-- MAGIC recorded in its commit, as `check` read it (`check_results.expected` of the invariant whose `check_id` is
-- MAGIC `raw_rows_accounted`): it is empty for a day `check` has not run on.
-- MAGIC On a healthy night `ingested + quarantined = raw_rows` and `scored = ingested`.

-- COMMAND ----------

-- chart: line x=dt y=raw_rows,ingested,scored
-- requires: check_results
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
ev AS (
  SELECT dt, count(*) AS ingested FROM ${database}.events
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt
),
qu AS (
  SELECT dt, count(*) AS quarantined FROM ${database}.quarantine
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt
),
sc AS (
  SELECT dt, count(*) AS scored FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt
),
raw AS (
  SELECT dt, max(expected) AS raw_rows FROM ${database}.check_results
  WHERE coalesce(check_id, CASE WHEN invariant = 'rows ingested + quarantined = raw rows'
    THEN 'raw_rows_accounted' END) = 'raw_rows_accounted'
    AND dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt
),
days AS (
  SELECT dt FROM ev UNION SELECT dt FROM qu UNION SELECT dt FROM sc UNION SELECT dt FROM raw
)
SELECT
  days.dt,
  raw.raw_rows,
  coalesce(ev.ingested, 0) AS ingested,
  coalesce(qu.quarantined, 0) AS quarantined,
  coalesce(sc.scored, 0) AS scored,
  round(coalesce(qu.quarantined, 0) / nullif(coalesce(ev.ingested, 0) + coalesce(qu.quarantined, 0), 0), 4)
    AS quarantine_share
FROM days
LEFT JOIN ev ON ev.dt = days.dt
LEFT JOIN qu ON qu.dt = days.dt
LEFT JOIN sc ON sc.dt = days.dt
LEFT JOIN raw ON raw.dt = days.dt
ORDER BY days.dt

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Quarantine by reason
-- MAGIC
-- MAGIC Rows that broke the event contract, per day and reason over the 14 days ending on the day under study (the
-- MAGIC rule each row broke first, see `docs/tables.md`), then the reasons of the day under study with their share of
-- MAGIC the day's rows and one example `detail` each. Above 5% of a day's rows
-- MAGIC (`nightscore.ingest.max-quarantine-share`) ingest refuses the day: its quarantined rows are kept and
-- MAGIC nothing is in `events` for it.

-- COMMAND ----------

-- chart: bar x=dt y=quarantined series=reason
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT dt, reason, count(*) AS quarantined
FROM ${database}.quarantine
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 13) AND (SELECT d FROM study_day)
GROUP BY dt, reason
ORDER BY dt, reason

-- COMMAND ----------

WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
total AS (
  SELECT
    (SELECT count(*) FROM ${database}.events WHERE dt = (SELECT d FROM study_day))
    + (SELECT count(*) FROM ${database}.quarantine WHERE dt = (SELECT d FROM study_day)) AS day_rows
)
SELECT
  q.dt,
  q.reason,
  count(*) AS quarantined,
  round(count(*) / nullif(max(total.day_rows), 0), 4) AS share_of_day,
  substr(min(q.detail), 1, 200) AS example_detail
FROM ${database}.quarantine q
CROSS JOIN total
WHERE q.dt = (SELECT d FROM study_day)
GROUP BY q.dt, q.reason
ORDER BY quarantined DESC, q.reason
LIMIT 50

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Score distribution per day
-- MAGIC
-- MAGIC The scores are conversion probabilities, most of them small, so the first table gives quantiles per day
-- MAGIC (30 days ending on the day under study) and the histograms use logarithmic bins: four per power of ten,
-- MAGIC `score_from` ≤ score < `score_to` (scores below 1e-6 fall in the lowest bin). The per-day histogram shows each
-- MAGIC day's share of rows per bin for the last 7 scored days, so days of different sizes compare; a day whose
-- MAGIC bars move away from the others scored a different population, or with a different model (see 02).

-- COMMAND ----------

-- chart: line x=dt y=p10,p50,mean_score,p90
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
q AS (
  SELECT
    dt,
    count(*) AS scored,
    avg(score) AS mean_score,
    min(score) AS min_score,
    max(score) AS max_score,
    percentile_approx(score, array(0.1, 0.5, 0.9, 0.99)) AS p
  FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt
)
SELECT
  dt,
  scored,
  round(mean_score, 5) AS mean_score,
  round(min_score, 6) AS min_score,
  round(p[0], 5) AS p10,
  round(p[1], 5) AS p50,
  round(p[2], 5) AS p90,
  round(p[3], 5) AS p99,
  round(max_score, 5) AS max_score
FROM q
ORDER BY dt

-- COMMAND ----------

-- chart: bar x=score_from y=share series=dt
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
recent AS (
  SELECT DISTINCT dt FROM ${database}.scores
  WHERE dt <= (SELECT d FROM study_day)
  ORDER BY dt DESC
  LIMIT 7
),
binned AS (
  SELECT s.dt, floor(log10(greatest(s.score, 1e-6)) * 4) AS b
  FROM ${database}.scores s
  WHERE s.dt IN (SELECT dt FROM recent)
)
SELECT
  dt,
  round(power(10, b / 4), 6) AS score_from,
  round(power(10, (b + 1) / 4), 6) AS score_to,
  count(*) AS scored,
  round(count(*) / sum(count(*)) OVER (PARTITION BY dt), 4) AS share
FROM binned
GROUP BY dt, b
ORDER BY dt, b

-- COMMAND ----------

-- chart: histogram x=score_from y=scored
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
binned AS (
  SELECT floor(log10(greatest(score, 1e-6)) * 4) AS b, score
  FROM ${database}.scores
  WHERE dt = (SELECT d FROM study_day)
)
SELECT
  round(power(10, b / 4), 6) AS score_from,
  round(power(10, (b + 1) / 4), 6) AS score_to,
  count(*) AS scored,
  round(avg(score), 6) AS mean_score
FROM binned
GROUP BY b
ORDER BY b

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Nights that broke an invariant
-- MAGIC
-- MAGIC `check --date D` records one row per day and invariant in `check_results` (a rerun replaces the day):
-- MAGIC `check_id` is the invariant's stable id, `invariant` its name as `check` prints it.
-- MAGIC First a summary per checked day of the 30 days ending on the day under study, then every failed
-- MAGIC invariant of any day, newest first, with the counts it expected and found and why it failed.
-- MAGIC A day missing from the summary was never checked.

-- COMMAND ----------

-- requires: check_results
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT
  dt,
  count(*) AS invariants,
  count_if(NOT passed) AS failed,
  concat_ws('; ', array_sort(collect_list(CASE WHEN NOT passed THEN invariant END))) AS failed_invariants,
  max(checked_at) AS checked_at
FROM ${database}.check_results
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
GROUP BY dt
ORDER BY dt DESC

-- COMMAND ----------

-- requires: check_results
SELECT dt, check_id, invariant, expected, actual, detail, checked_at
FROM ${database}.check_results
WHERE NOT passed
ORDER BY dt DESC, check_id
LIMIT 200

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Checks
-- MAGIC
-- MAGIC Each cell below lists the violations of one invariant and must return no rows.
-- MAGIC
-- MAGIC 1. Every scored day has as many scores as ingested events (all scored days).
-- MAGIC 2. If the day under study is scored, every event of it has a score and every score names an event of
-- MAGIC    the day (`scores` and `events` joined on the id `event_id` and `dt`).
-- MAGIC 3. No event is scored twice (`event_id`, `dt` repeated in `scores`), over the 30 days ending on the day under study.
-- MAGIC 4. Every score is a probability: within [0, 1], not NaN or null (same 30 days).
-- MAGIC 5. For every day `check` recorded a raw row count: rows in `events` + rows in `quarantine` = raw rows.
-- MAGIC    A day re-ingested after its check shows up here until `check` runs for it again.

-- COMMAND ----------

-- check: empty
WITH sc AS (
  SELECT dt, count(*) AS scored FROM ${database}.scores GROUP BY dt
),
ev AS (
  SELECT dt, count(*) AS ingested FROM ${database}.events WHERE dt IN (SELECT dt FROM sc) GROUP BY dt
)
SELECT sc.dt, coalesce(ev.ingested, 0) AS ingested, sc.scored, sc.scored - coalesce(ev.ingested, 0) AS difference
FROM sc
LEFT JOIN ev ON ev.dt = sc.dt
WHERE sc.scored <> coalesce(ev.ingested, 0)
ORDER BY sc.dt
LIMIT 100

-- COMMAND ----------

-- check: empty
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
ev AS (
  SELECT dt, event_id FROM ${database}.events WHERE dt = (SELECT d FROM study_day)
),
sc AS (
  SELECT dt, event_id FROM ${database}.scores WHERE dt = (SELECT d FROM study_day)
)
SELECT coalesce(ev.dt, sc.dt) AS dt, coalesce(ev.event_id, sc.event_id) AS event_id,
  CASE WHEN sc.event_id IS NULL THEN 'event without a score' ELSE 'score without an event' END AS problem
FROM ev
FULL OUTER JOIN sc ON sc.event_id = ev.event_id AND sc.dt = ev.dt
WHERE (ev.event_id IS NULL OR sc.event_id IS NULL)
  AND EXISTS (SELECT 1 FROM ${database}.scores WHERE dt = (SELECT d FROM study_day))
ORDER BY problem, event_id
LIMIT 100

-- COMMAND ----------

-- check: empty
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT dt, event_id, count(*) AS times_scored, collect_set(model_version) AS model_versions
FROM ${database}.scores
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
GROUP BY dt, event_id
HAVING count(*) > 1
ORDER BY dt, event_id
LIMIT 100

-- COMMAND ----------

-- check: empty
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT dt, model_version, count(*) AS bad_scores, min(score) AS min_score, max(score) AS max_score
FROM ${database}.scores
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  AND (score IS NULL OR isnan(score) OR score < 0 OR score > 1)
GROUP BY dt, model_version
ORDER BY dt, model_version
LIMIT 100

-- COMMAND ----------

-- check: empty
-- requires: check_results
WITH raw AS (
  SELECT dt, max(expected) AS raw_rows
  FROM ${database}.check_results
  WHERE coalesce(check_id, CASE WHEN invariant = 'rows ingested + quarantined = raw rows'
    THEN 'raw_rows_accounted' END) = 'raw_rows_accounted' AND expected IS NOT NULL
  GROUP BY dt
),
ev AS (
  SELECT dt, count(*) AS ingested FROM ${database}.events WHERE dt IN (SELECT dt FROM raw) GROUP BY dt
),
qu AS (
  SELECT dt, count(*) AS quarantined FROM ${database}.quarantine WHERE dt IN (SELECT dt FROM raw) GROUP BY dt
)
SELECT
  raw.dt,
  raw.raw_rows,
  coalesce(ev.ingested, 0) AS ingested,
  coalesce(qu.quarantined, 0) AS quarantined,
  coalesce(ev.ingested, 0) + coalesce(qu.quarantined, 0) - raw.raw_rows AS difference
FROM raw
LEFT JOIN ev ON ev.dt = raw.dt
LEFT JOIN qu ON qu.dt = raw.dt
WHERE coalesce(ev.ingested, 0) + coalesce(qu.quarantined, 0) <> raw.raw_rows
ORDER BY raw.dt
LIMIT 100
