-- id = "spending"
-- title = { fr = "Dépenses du projet", en = "Project spending" }
-- description = { fr = "Montants dépensés d'après les extractions comptables, convertis dans la monnaie de la subvention (USD) au taux du mois indiqué dans le budget du projet.", en = "Amounts spent according to the accounting extracts, converted to the grant's currency (USD) at the month's rate given in the project's budget." }
-- unit = { fr = "USD", en = "USD" }
-- # Money, not people: published as summed (finance rows name no one).
-- sensitivity = "aggregate"
-- statistic = "sum"
-- dimensions = ["budget_line", "output", "month", "quarter"]
-- months = { from = "2019-03", to = "2020-03" }
-- breakdowns = [
--   [],
--   ["budget_line"], ["output"],
--   ["month"], ["quarter"],
--   ["month", "budget_line"], ["month", "output"],
--   ["quarter", "budget_line"],
-- ]
-- # exchange_rates holds the rates of dashboards/_budget.toml (the grant's currency at 1),
-- # written by the job on every run; a finance row without a rate is refused at delivery.
SELECT
    f.budget_line,
    f.output,
    strftime(f.month, '%Y-%m') AS month,
    strftime(f.month, '%Y') || '-Q' || quarter(f.month) AS quarter,
    CAST(f.amount AS DOUBLE) * r.rate AS value
FROM finance f
JOIN exchange_rates r ON r.month = f.month AND r.currency = f.currency
