-- A case's search terms hold a token for each unit it is dispatched to,
-- lead or cooperating ('#u' and the unit's id), so that the text index
-- narrows a handler's search to the unit's cases by itself
-- (internal/workflow/search.go keeps them up to date and reads them).
-- On a large database this rewrites every indexed case once.
UPDATE case_search s SET terms = ts_delete(s.terms, ARRAY(SELECT lexeme FROM unnest(s.terms) WHERE lexeme LIKE '#u%'))
	|| array_to_tsvector(ARRAY(SELECT '#u' || c.lead_unit_id FROM cases c WHERE c.id = s.case_id AND c.lead_unit_id IS NOT NULL
		UNION SELECT '#u' || cu.unit_id FROM case_coop_units cu WHERE cu.case_id = s.case_id))
WHERE EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id AND c.lead_unit_id IS NOT NULL)
	OR EXISTS (SELECT 1 FROM case_coop_units cu WHERE cu.case_id = s.case_id);
