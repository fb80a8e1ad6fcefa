-- id = "spending_cumulative"
-- title = { fr = "Dépenses cumulées", en = "Cumulative spending" }
-- description = { fr = "Montants dépensés depuis le début du projet, à la fin de chaque mois, dans la monnaie de la subvention (USD) au taux de chaque mois.", en = "Amounts spent since the project began, at the end of each month, in the grant's currency (USD) at each month's rate." }
-- unit = { fr = "USD", en = "USD" }
-- # Money, not people: published as summed.
-- sensitivity = "aggregate"
-- statistic = "sum"
-- dimensions = ["through_month", "budget_line"]
-- months = { from = "2019-03", to = "2020-03" }
-- # No total over through_month: it would add up the same money month after month.
-- breakdowns = [["through_month"], ["through_month", "budget_line"]]
WITH spent AS (
    SELECT f.month, f.budget_line, CAST(f.amount AS DOUBLE) * r.rate AS value
    FROM finance f
    JOIN exchange_rates r ON r.month = f.month AND r.currency = f.currency
),
months AS (
    SELECT DISTINCT month FROM exchange_rates
)
SELECT strftime(months.month, '%Y-%m') AS through_month, spent.budget_line, spent.value
FROM spent
JOIN months ON months.month >= spent.month
