-- id = "trainees"
-- title = { fr = "Professionnels formés", en = "Professionals trained" }
-- description = { fr = "Travailleurs sociaux, agents de santé et autres professionnels formés ; chacun compte une fois par case.", en = "Social workers, health workers and other professionals trained; each counts once per cell." }
-- unit = { fr = "personnes", en = "people" }
-- sensitivity = "person"
-- statistic = "persons"
-- dimensions = ["profession", "region", "sex", "topic", "month", "quarter", "year"]
-- months = { from = "2019-03" }
-- breakdowns = [
--   [],
--   ["profession"], ["region"], ["sex"], ["topic"],
--   ["profession", "sex"], ["region", "profession"],
--   ["month"], ["quarter"], ["year"], ["quarter", "topic"],
-- ]
SELECT
    person_ref,
    profession,
    region_pcode AS region,
    sex,
    topic,
    strftime(training_date, '%Y-%m') AS month,
    strftime(training_date, '%Y') || '-Q' || quarter(training_date) AS quarter,
    strftime(training_date, '%Y') AS year
FROM trainings
