CREATE TABLE rooms (
    id       INTEGER PRIMARY KEY,
    hotel    TEXT    NOT NULL,
    city     TEXT    NOT NULL,
    price    REAL    NOT NULL,
    beds     INTEGER NOT NULL,
    sea_view BOOLEAN NOT NULL
);

CREATE TABLE reservations (
    id        INTEGER PRIMARY KEY,
    room_id   INTEGER NOT NULL REFERENCES rooms (id),
    guest     TEXT    NOT NULL,
    team      TEXT    NOT NULL,
    nights    INTEGER NOT NULL,
    cancelled BOOLEAN NOT NULL DEFAULT 0
);
