-- id = "beneficiaries_cumulative"
-- title = { fr = "Bénéficiaires uniques cumulés", en = "Cumulative unique beneficiaries" }
-- description = { fr = "Personnes ayant participé à au moins une activité depuis le début du programme, à la fin de chaque mois.", en = "People who took part in at least one activity since the programme began, at the end of each month." }
-- unit = { fr = "personnes", en = "people" }
-- sensitivity = "person"
-- statistic = "persons"
-- dimensions = ["through_month"]
-- months = { from = "2019-03" }
-- breakdowns = [[], ["through_month"]]
-- # A person counts in every month from their first attendance onwards.
WITH firsts AS (
    SELECT person_ref, min(date_trunc('month', session_date)) AS first_month
    FROM sessions
    GROUP BY person_ref
),
months AS (
    SELECT DISTINCT date_trunc('month', session_date) AS month FROM sessions
)
SELECT firsts.person_ref, strftime(months.month, '%Y-%m') AS through_month
FROM firsts
JOIN months ON months.month >= firsts.first_month
