-- Voiding a case removes all of its dispatches from the unit figures
-- (docs/domain.md, voided cases), not only the task in force when it was
-- voided. Before this step the void action marked that one task; the
-- earlier tasks of cases already voided (returned, reworked, or every task
-- of a case voided while it waited for a new dispatch) are marked now, as
-- of the case's void event, or of its last change when the trail has none.
UPDATE tasks SET voided_at = COALESCE(
        (SELECT MAX(e.at) FROM events e WHERE e.case_id = tasks.case_id AND e.action = 'void'),
        (SELECT c.updated_at FROM cases c WHERE c.id = tasks.case_id))
    WHERE voided_at = 0
    AND case_id IN (SELECT id FROM cases WHERE state = 'voided');
