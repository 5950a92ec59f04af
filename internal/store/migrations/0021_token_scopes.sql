-- What an API token may do (docs/security.md): open311 (the Open311
-- endpoints only; new tokens without a unit get it), file (Open311 and
-- filing cases on the staff API, without reading it), read (the staff
-- API's reads, city-wide), unit (a unit's handler). Tokens made before
-- had a unit (now unit) or could file and read the whole city (now file:
-- they keep filing and lose the reading, which was the hole).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'open311';
UPDATE api_tokens SET scope = CASE WHEN unit_id IS NOT NULL THEN 'unit' ELSE 'file' END;
