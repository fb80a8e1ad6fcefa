-- id = "returns"
-- title = { fr = "Retours assistés", en = "Assisted returns" }
-- description = { fr = "Migrants maliens dont le retour a été assisté, depuis mai 2017.", en = "Malian migrants assisted to return, since May 2017." }
-- unit = { fr = "personnes", en = "people" }
-- sensitivity = "person"
-- statistic = "persons"
-- dimensions = ["region", "cercle", "month", "quarter", "year", "country_from", "sex", "age_band", "return_type", "vulnerability"]
-- months = { from = "2017-05" }
-- # Each breakdown published is another view of the same people: keep the list short
-- # (disclosure control assumes an attacker sees every one of them).
-- breakdowns = [
--   [],
--   ["region"], ["region", "cercle"],
--   ["month"], ["quarter"], ["year"],
--   ["year", "region"], ["quarter", "region"], ["year", "region", "cercle"],
--   ["country_from"], ["year", "country_from"], ["region", "country_from"],
--   ["sex"], ["age_band"], ["sex", "age_band"],
--   ["year", "sex", "age_band"], ["region", "sex", "age_band"],
--   ["return_type"], ["year", "return_type"], ["region", "return_type"],
--   ["vulnerability"], ["region", "vulnerability"],
-- ]
-- # One row per returnee and vulnerability flag ("none" when no flag is set), so that
-- # a person with two flags appears under both and once in every other cell.
SELECT
    person_ref,
    region_pcode AS region,
    cercle_pcode AS cercle,
    strftime(return_date, '%Y-%m') AS month,
    strftime(return_date, '%Y') || '-Q' || quarter(return_date) AS quarter,
    strftime(return_date, '%Y') AS year,
    country_from,
    sex,
    age_band,
    return_type,
    unnest(CASE
        WHEN unaccompanied_minor OR trafficking_victim OR medical_case THEN list_concat(
            CASE WHEN unaccompanied_minor THEN ['unaccompanied_minor'] ELSE [] END,
            CASE WHEN trafficking_victim THEN ['trafficking_victim'] ELSE [] END,
            CASE WHEN medical_case THEN ['medical_case'] ELSE [] END)
        ELSE ['none']
    END) AS vulnerability
FROM returns
