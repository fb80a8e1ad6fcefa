-- id = "campaign_events"
-- title = { fr = "Événements de sensibilisation", en = "Awareness events" }
-- description = { fr = "Événements des campagnes d'information et de sensibilisation.", en = "Events of the information and awareness campaigns." }
-- unit = { fr = "événements", en = "events" }
-- # Events are not people: published as counted.
-- sensitivity = "aggregate"
-- statistic = "units"
-- dimensions = ["channel", "language", "region", "cercle", "month", "quarter", "year"]
-- months = { from = "2019-03" }
-- breakdowns = [
--   [],
--   ["channel"], ["language"],
--   ["region"], ["region", "cercle"],
--   ["month"], ["quarter"], ["year"],
--   ["quarter", "channel"], ["region", "channel"], ["region", "language"],
-- ]
SELECT
    event_ref AS unit_ref,
    channel,
    language,
    region_pcode AS region,
    cercle_pcode AS cercle,
    strftime(event_date, '%Y-%m') AS month,
    strftime(event_date, '%Y') || '-Q' || quarter(event_date) AS quarter,
    strftime(event_date, '%Y') AS year
FROM campaigns
