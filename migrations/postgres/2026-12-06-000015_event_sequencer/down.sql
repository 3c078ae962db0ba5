-- Events not yet numbered are numbered here, in the order they were written, before the
-- table goes: nothing acknowledged is lost by going back.
INSERT INTO event_sequences (org_id, last_seq)
SELECT o.id, 0 FROM organizations o
WHERE NOT EXISTS (SELECT 1 FROM event_sequences s WHERE s.org_id = o.id);
INSERT INTO events (org_id, seq, id, event_type, subject_type, subject_id, occurred_at, data)
SELECT p.org_id, s.last_seq + row_number() OVER (PARTITION BY p.org_id ORDER BY p.pos),
       p.id, p.event_type, p.subject_type, p.subject_id, p.occurred_at, p.data
FROM pending_events p JOIN event_sequences s ON s.org_id = p.org_id;
UPDATE event_sequences s SET last_seq = s.last_seq + (
    SELECT count(*) FROM pending_events p WHERE p.org_id = s.org_id);
DROP TABLE pending_events;
