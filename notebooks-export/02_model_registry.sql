-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 02 Model registry
-- MAGIC
-- MAGIC The registry in SQL (see `docs/registry.md`): every registered version with its status, the history of
-- MAGIC decisions (gate, promote, rollback, approved, abandoned), every gate decision with the numbers it compared,
-- MAGIC each version's lineage (the `events` version it trained on, its config and code), and which version scored
-- MAGIC which day. The last cells check that there is exactly one champion, that `model_status` and the champion
-- MAGIC alias agree, and that `model_status` is current.
-- MAGIC
-- MAGIC **Parameters**
-- MAGIC
-- MAGIC - `database`: the catalog database holding the nightscore tables (`nightscore` by default).
-- MAGIC - `run_date`: the day under study, `yyyy-MM-dd`; empty means the latest scored day (`max(dt)` of `scores`).
-- MAGIC   "Which version scored which day" shows the 30 days that end on it, and one cell traces that day to its model.

-- COMMAND ----------

-- param database: identifier
CREATE WIDGET TEXT database DEFAULT 'nightscore';
-- param run_date: date
CREATE WIDGET TEXT run_date DEFAULT '';

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Versions
-- MAGIC
-- MAGIC One row per registered version, newest first: its status now (`model_status`, which the registry rewrites
-- MAGIC with every registration and decision), the last decision about it, its training window and its figures on
-- MAGIC the holdout day's evaluation half. `holdout_calibration_ratio` is Σscore ÷ Σlabel there (mean score ÷ rate).
-- MAGIC An empty status means `model_status` does not list the version yet. Then the number of versions per status.

-- COMMAND ----------

-- requires: model_status
SELECT
  m.version AS model_version,
  st.status,
  st.last_action,
  st.last_decided_at,
  m.created_at,
  m.train_start,
  m.train_end,
  m.holdout_date,
  m.recipe,
  m.calibration,
  m.num_rounds,
  m.best_iteration,
  m.train_rows,
  m.holdout_rows,
  m.holdout_positives,
  round(m.holdout_auc, 4) AS holdout_auc,
  round(m.holdout_logloss, 5) AS holdout_logloss,
  round(m.holdout_mean_score / nullif(m.holdout_rate, 0), 4) AS holdout_calibration_ratio,
  st.updated_at AS status_updated_at
FROM ${database}.models m
LEFT JOIN ${database}.model_status st ON st.model_version = m.version
ORDER BY m.version DESC
LIMIT 100

-- COMMAND ----------

-- chart: bar x=status y=versions
-- requires: model_status
SELECT status, count(*) AS versions, array_sort(collect_list(model_version)) AS model_versions
FROM ${database}.model_status
GROUP BY status
ORDER BY versions DESC, status

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Status history
-- MAGIC
-- MAGIC Every decision, in the order it was taken (the latest 200): what was decided about which version, by whom
-- MAGIC and why (`note` is the `--reason` of a manual promote or rollback), and the champion before and after.
-- MAGIC The chart follows the champion version over time: a step up is a promotion, a step down a rollback.

-- COMMAND ----------

-- chart: line x=decided_at y=champion_after
SELECT *
FROM (
  SELECT
    decided_at,
    model_version,
    action,
    promoted,
    champion_before,
    champion_after,
    dt AS judged_on,
    actor,
    note
  FROM ${database}.model_decisions
  ORDER BY decided_at DESC
  LIMIT 200
) latest
ORDER BY decided_at

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Gate decisions and their numbers
-- MAGIC
-- MAGIC Every decision of the promotion gate (`gate`, and `approved` for a backfill that passed while a newer
-- MAGIC champion stayed), newest first. The challenger and the model it was compared with (the champion, or for a
-- MAGIC backfill the model that qualifies for the day, named in `reasons`) scored the same rows, the challenger's
-- MAGIC holdout evaluation half of `judged_on`. `logloss_change_pct` is the challenger's log loss against the
-- MAGIC champion's (the gate allows +0.5% by default), `auc_change` its AUC minus the champion's (allowed −0.005).
-- MAGIC The champion columns are empty for a first model, judged on the absolute bounds only.

-- COMMAND ----------

SELECT
  decided_at,
  model_version,
  action,
  promoted,
  dt AS judged_on,
  champion_before,
  champion_after,
  round(challenger_auc, 4) AS challenger_auc,
  round(champion_auc, 4) AS champion_auc,
  round(challenger_auc - champion_auc, 4) AS auc_change,
  round(challenger_logloss, 5) AS challenger_logloss,
  round(champion_logloss, 5) AS champion_logloss,
  round(100 * (challenger_logloss / nullif(champion_logloss, 0) - 1), 2) AS logloss_change_pct,
  round(challenger_calibration_ratio, 4) AS challenger_calibration_ratio,
  round(champion_calibration_ratio, 4) AS champion_calibration_ratio,
  round(challenger_ne, 4) AS challenger_ne,
  size(filter(reasons, r -> r LIKE 'FAIL%')) AS failed_checks,
  concat_ws('; ', reasons) AS reasons
FROM ${database}.model_decisions
WHERE action IN ('gate', 'approved')
ORDER BY decided_at DESC
LIMIT 100

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Lineage
-- MAGIC
-- MAGIC What each version was built from, newest first: the `events` Delta version training read (retraining with
-- MAGIC `--events-version V` and the same config reproduces the model), the `labels` version (delayed labels only),
-- MAGIC the git commit of the jar (`+dirty`: built with uncommitted changes), the SHA-256 of the resolved config
-- MAGIC (`models show V --config` prints it) and of the feature schema, and the artifact folder. The `*_changed`
-- MAGIC columns compare a version with the one registered before it.

-- COMMAND ----------

SELECT
  version AS model_version,
  created_at,
  train_start,
  train_end,
  holdout_date,
  events_version,
  try_element_at(params, 'labels_version') AS labels_version,
  code_version,
  code_version LIKE '%+dirty' AS uncommitted_code,
  code_version <> lag(code_version) OVER (ORDER BY version) AS code_changed,
  config_sha256,
  config_sha256 <> lag(config_sha256) OVER (ORDER BY version) AS config_changed,
  schema_sha256,
  schema_sha256 <> lag(schema_sha256) OVER (ORDER BY version) AS schema_changed,
  nightscore_version,
  xgboost_version,
  size(features) AS features,
  size(artifact_sha256) AS artifact_files,
  artifact_path,
  report_path
FROM ${database}.models
ORDER BY version DESC
LIMIT 100

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Which version scored which day
-- MAGIC
-- MAGIC One row per scored day of the 30 days ending on the day under study: the version in `scores`, the
-- MAGIC `events` version it scored, when, and
-- MAGIC whether the model qualifies for the day (all its training and holdout days before it; `false` only after a
-- MAGIC `score --model-version V` override). The chart shows the version per day. Then the challengers that
-- MAGIC shadow-scored each day (`scores_shadow`; the cell is skipped on a warehouse without shadow scoring).

-- COMMAND ----------

-- chart: line x=dt y=model_version
-- requires: model_status
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
sc AS (
  SELECT dt, model_version, count(*) AS scored, max(events_version) AS events_version, max(scored_at) AS scored_at
  FROM ${database}.scores
  WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
  GROUP BY dt, model_version
)
SELECT
  sc.dt,
  sc.model_version,
  st.status AS status_now,
  sc.scored,
  sc.events_version,
  sc.scored_at,
  m.train_start,
  m.holdout_date,
  m.holdout_date < sc.dt AS qualifies
FROM sc
LEFT JOIN ${database}.models m ON m.version = sc.model_version
LEFT JOIN ${database}.model_status st ON st.model_version = sc.model_version
ORDER BY sc.dt, sc.model_version

-- COMMAND ----------

-- requires: scores_shadow
-- The challengers that shadow-scored each day (score --shadow), beside the champion's scores.
WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
)
SELECT dt, model_version AS shadow_version, count(*) AS shadow_scored, max(scored_at) AS scored_at
FROM ${database}.scores_shadow
WHERE dt BETWEEN date_sub((SELECT d FROM study_day), 29) AND (SELECT d FROM study_day)
GROUP BY dt, model_version
ORDER BY dt, model_version

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## The day under study, traced to its model
-- MAGIC
-- MAGIC What `models explain --date D` prints, as a table: the version that scored the day, the `events` version
-- MAGIC it scored and the one it trained on, its code and config, and the last decision before scoring that made it
-- MAGIC champion (a promotion, a manual promote or a rollback to it) or approved it for backfilled days.

-- COMMAND ----------

WITH study_day AS (
  SELECT coalesce(to_date(nullif('${run_date}', '')), (SELECT max(dt) FROM ${database}.scores)) AS d
),
sc AS (
  SELECT dt, model_version, count(*) AS scored, max(events_version) AS scored_events_version,
    min(scored_at) AS scored_at
  FROM ${database}.scores
  WHERE dt = (SELECT d FROM study_day)
  GROUP BY dt, model_version
),
made AS (
  SELECT
    CASE WHEN action = 'approved' THEN model_version WHEN promoted THEN champion_after END AS version,
    decided_at,
    action,
    actor,
    concat_ws('; ', reasons) AS reasons,
    note
  FROM ${database}.model_decisions
),
last_made AS (
  SELECT
    sc.model_version,
    max(made.decided_at) AS decided_at,
    max_by(made.action, made.decided_at) AS action,
    max_by(made.actor, made.decided_at) AS actor,
    max_by(made.note, made.decided_at) AS note,
    max_by(made.reasons, made.decided_at) AS reasons
  FROM sc
  JOIN made ON made.version = sc.model_version AND made.decided_at <= sc.scored_at
  GROUP BY sc.model_version
)
SELECT
  sc.dt,
  sc.model_version,
  sc.scored,
  sc.scored_at,
  sc.scored_events_version,
  m.events_version AS training_events_version,
  m.train_start,
  m.train_end,
  m.holdout_date,
  m.recipe,
  m.code_version,
  m.config_sha256,
  lm.action AS chosen_by,
  lm.decided_at AS chosen_at,
  lm.actor AS chosen_by_actor,
  lm.note AS chosen_note,
  lm.reasons AS chosen_reasons
FROM sc
LEFT JOIN ${database}.models m ON m.version = sc.model_version
LEFT JOIN last_made lm ON lm.model_version = sc.model_version

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Check: exactly one champion, the same in `model_status` and `model_aliases`
-- MAGIC
-- MAGIC Lists the problem when `model_status` holds no champion or more than one, when the `champion` alias is
-- MAGIC missing or duplicated, or when the two name different versions. Must return no rows.

-- COMMAND ----------

-- check: empty
-- requires: model_status
WITH st AS (
  SELECT count(*) AS status_champions, array_sort(collect_list(model_version)) AS status_versions
  FROM ${database}.model_status
  WHERE status = 'champion'
),
al AS (
  SELECT count(*) AS alias_rows, array_sort(collect_list(version)) AS alias_versions
  FROM ${database}.model_aliases
  WHERE alias = 'champion'
)
SELECT
  CASE
    WHEN st.status_champions = 0 THEN 'no champion in model_status'
    WHEN st.status_champions > 1 THEN 'more than one champion in model_status'
    WHEN al.alias_rows = 0 THEN 'no champion alias in model_aliases'
    WHEN al.alias_rows > 1 THEN 'more than one champion alias in model_aliases'
    ELSE 'model_status and model_aliases name different champions'
  END AS problem,
  st.status_versions,
  al.alias_versions
FROM st
CROSS JOIN al
WHERE st.status_champions <> 1 OR al.alias_rows <> 1 OR st.status_versions <> al.alias_versions

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Check: `model_status` is current
-- MAGIC
-- MAGIC The registry rewrites `model_status` after every registration and decision, stamping each row with the
-- MAGIC newest decision of the log it was derived from (`derived_from_decision`). Lists the versions of `models`
-- MAGIC missing from `model_status`, and the rows whose stamp is not the newest decision in `model_decisions` (a job
-- MAGIC died between its decision and the rewrite; `bin/nightscore models list` rewrites the table). Must return no
-- MAGIC rows.

-- COMMAND ----------

-- check: empty
-- requires: model_status
WITH newest AS (
  SELECT max_by(decision_id, struct(decided_at, decision_id)) AS decision_id FROM ${database}.model_decisions
)
SELECT m.version AS model_version, 'registered, not in model_status' AS problem
FROM ${database}.models m
LEFT ANTI JOIN ${database}.model_status st ON st.model_version = m.version
UNION ALL
SELECT st.model_version, concat('derived from decision ', coalesce(st.derived_from_decision, 'none'),
  ', the newest is ', coalesce((SELECT decision_id FROM newest), 'none')) AS problem
FROM ${database}.model_status st
WHERE st.derived_from_decision IS DISTINCT FROM (SELECT decision_id FROM newest)
ORDER BY model_version
