-- The SQLite side of the fault tests: a table to write to and to read.
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
INSERT INTO notes (body) VALUES ('first');
