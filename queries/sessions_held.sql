-- id = "sessions_held"
-- title = { fr = "Séances tenues", en = "Sessions held" }
-- description = { fr = "Séances d'activités psychosociales tenues (individuelles ou de groupe).", en = "Psychosocial activity sessions held (individual or group)." }
-- unit = { fr = "séances", en = "sessions" }
-- # An individual session is one person's attendance: counts of sessions are protected
-- # like person counts, or they would give away the attendances published above. The
-- # noise of a cell comes from the people who attended its sessions (never from the
-- # sessions), so a count of one-to-one sessions equals the count of their people.
-- sensitivity = "person"
-- statistic = "units"
-- dimensions = ["activity", "region", "cercle", "site", "month", "quarter", "year"]
-- months = { from = "2019-03" }
-- breakdowns = [
--   [],
--   ["activity"],
--   ["region"], ["region", "cercle"], ["region", "cercle", "site"],
--   ["month"], ["quarter"], ["year"],
--   ["quarter", "activity"],
-- ]
SELECT DISTINCT
    session_ref AS unit_ref,
    person_ref,
    activity,
    region_pcode AS region,
    cercle_pcode AS cercle,
    site,
    strftime(session_date, '%Y-%m') AS month,
    strftime(session_date, '%Y') || '-Q' || quarter(session_date) AS quarter,
    strftime(session_date, '%Y') AS year
FROM sessions
