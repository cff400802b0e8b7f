-- The schema every UI fixture checks its statements against.
CREATE TABLE flights (
    id            INTEGER PRIMARY KEY,
    flight_number TEXT    NOT NULL UNIQUE,
    airline       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    seats         INTEGER NOT NULL,
    price         REAL    NOT NULL
);
