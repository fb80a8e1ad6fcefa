-- id = "people_reached"
-- title = { fr = "Personnes atteintes par les campagnes", en = "People reached by campaigns" }
-- description = { fr = "Estimations des organisateurs : une même personne peut être comptée à plusieurs événements.", en = "Organisers' estimates: the same person may be counted at several events." }
-- unit = { fr = "personnes atteintes (estimation)", en = "people reached (estimate)" }
-- # Head counts estimated by organisers, not records of people: published as summed.
-- sensitivity = "aggregate"
-- statistic = "sum"
-- dimensions = ["audience", "channel", "language", "region", "cercle", "month", "quarter", "year"]
-- months = { from = "2019-03" }
-- # audience (all, women, youth) overlaps: every breakdown keeps it, so no cell adds them up.
-- breakdowns = [
--   ["audience"],
--   ["audience", "channel"], ["audience", "language"],
--   ["audience", "region"], ["audience", "region", "cercle"],
--   ["audience", "month"], ["audience", "quarter"], ["audience", "year"],
--   ["audience", "quarter", "channel"], ["audience", "region", "channel"],
--   ["audience", "region", "language"],
-- ]
SELECT
    audience,
    channel,
    language,
    region_pcode AS region,
    cercle_pcode AS cercle,
    strftime(event_date, '%Y-%m') AS month,
    strftime(event_date, '%Y') || '-Q' || quarter(event_date) AS quarter,
    strftime(event_date, '%Y') AS year,
    value
FROM campaigns,
    (VALUES ('all'), ('women'), ('youth')) AS audiences(audience),
    LATERAL (SELECT CASE audience
        WHEN 'all' THEN people_reached
        WHEN 'women' THEN women_reached
        ELSE youth_reached END AS value)
