-- id = "beneficiaries"
-- title = { fr = "Bénéficiaires uniques du soutien psychosocial", en = "Unique beneficiaries of psychosocial support" }
-- description = { fr = "Personnes ayant participé à au moins une activité psychosociale ; chacune compte une fois par case, quel que soit le nombre de séances.", en = "People who took part in at least one psychosocial activity; each counts once per cell, however many sessions they attended." }
-- unit = { fr = "personnes", en = "people" }
-- sensitivity = "person"
-- statistic = "persons"
-- dimensions = ["activity", "facilitator", "region", "cercle", "site", "month", "quarter", "year", "attendance_band"]
-- months = { from = "2019-03" }
-- breakdowns = [
--   [],
--   ["activity"], ["facilitator"],
--   ["region"], ["region", "cercle"], ["region", "cercle", "site"],
--   ["month"], ["quarter"], ["year"],
--   ["attendance_band"], ["region", "attendance_band"],
--   ["activity", "region"], ["activity", "region", "cercle"],
--   ["quarter", "activity"], ["quarter", "region"],
-- ]
-- # attendance_band: how many sessions the person attended over the whole programme.
WITH attendance AS (
    SELECT *, count(*) OVER (PARTITION BY person_ref) AS sessions_attended
    FROM sessions
)
SELECT
    person_ref,
    activity,
    facilitator,
    region_pcode AS region,
    cercle_pcode AS cercle,
    site,
    strftime(session_date, '%Y-%m') AS month,
    strftime(session_date, '%Y') || '-Q' || quarter(session_date) AS quarter,
    strftime(session_date, '%Y') AS year,
    CASE
        WHEN sessions_attended = 1 THEN '1'
        WHEN sessions_attended <= 4 THEN '2-4'
        WHEN sessions_attended <= 9 THEN '5-9'
        ELSE '10+'
    END AS attendance_band
FROM attendance
