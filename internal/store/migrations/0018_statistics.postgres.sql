ALTER TABLE cases SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE dispatches SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE events SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE case_search SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE photos SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE receipts SET (autovacuum_analyze_scale_factor = 0.02);
