-- id = "attendances"
-- title = { fr = "Participations aux activités psychosociales", en = "Attendances at psychosocial activities" }
-- description = { fr = "Présences d'un bénéficiaire à une activité ; une personne venue dix fois compte dix fois.", en = "Attendances of one beneficiary at one activity; someone who came ten times counts ten times." }
-- unit = { fr = "participations", en = "attendances" }
-- # Attendances are records of people: protected like person counts.
-- sensitivity = "person"
-- statistic = "units"
-- dimensions = ["activity", "facilitator", "region", "cercle", "site", "month", "quarter", "year"]
-- months = { from = "2019-03" }
-- breakdowns = [
--   [],
--   ["activity"], ["facilitator"],
--   ["region"], ["region", "cercle"], ["region", "cercle", "site"],
--   ["month"], ["quarter"], ["year"],
--   ["quarter", "activity"], ["activity", "region"],
-- ]
SELECT
    session_ref || '/' || person_ref AS unit_ref,
    person_ref,
    activity,
    facilitator,
    region_pcode AS region,
    cercle_pcode AS cercle,
    site,
    strftime(session_date, '%Y-%m') AS month,
    strftime(session_date, '%Y') || '-Q' || quarter(session_date) AS quarter,
    strftime(session_date, '%Y') AS year
FROM sessions
