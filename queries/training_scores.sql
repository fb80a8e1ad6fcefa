-- id = "training_scores"
-- title = { fr = "Scores aux tests avant et après formation", en = "Test scores before and after training" }
-- description = { fr = "Score moyen (sur 100) des professionnels formés, avant et après la formation.", en = "Mean score (out of 100) of trained professionals, before and after training." }
-- unit = { fr = "score moyen sur 100", en = "mean score out of 100" }
-- # A mean over people: shown only where enough people stand behind it.
-- sensitivity = "person"
-- statistic = "mean"
-- dimensions = ["test", "profession", "region", "sex", "topic", "quarter", "year"]
-- months = { from = "2019-03" }
-- range = [0, 100]
-- # test (pre, post) is in every breakdown: a mean over both would mean nothing.
-- breakdowns = [
--   ["test"],
--   ["test", "profession"], ["test", "region"], ["test", "sex"], ["test", "topic"],
--   ["test", "quarter"], ["test", "year"],
-- ]
SELECT person_ref, test, profession, region_pcode AS region, sex, topic,
    strftime(training_date, '%Y') || '-Q' || quarter(training_date) AS quarter,
    strftime(training_date, '%Y') AS year,
    value
FROM trainings,
    LATERAL (VALUES ('pre', pre_score), ('post', post_score)) AS scores(test, value)
WHERE value IS NOT NULL
