DROP TABLE report_transitions;
DROP TABLE report_revisions;
