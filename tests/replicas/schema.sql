-- The replica tests' database (toolbox_replicas): a table the read tools read and the write tools
-- change, a sequence, and a function PostgreSQL marks volatile.
CREATE TABLE notes (
    id   SERIAL PRIMARY KEY,
    body TEXT NOT NULL
);
INSERT INTO notes (body) SELECT 'note ' || i FROM generate_series(1, 1000) AS i;
CREATE FUNCTION touch_note(note_id INT) RETURNS INT LANGUAGE sql VOLATILE
    AS 'UPDATE notes SET body = body WHERE id = note_id RETURNING id';
-- A view that takes a ticket from the sequence: reading it writes.
CREATE VIEW ticketed_notes AS SELECT id, nextval('notes_id_seq') AS ticket FROM notes;
