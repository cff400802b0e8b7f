-- Schema of the demo airline database. The build checks every statement in tools.yaml against
-- it, and the server runs it (then seed.sql) to create the database file on first start.
-- STRICT tables hold only their columns' declared types, so their output schemas are exact
-- (`seats` an integer, `price` a number); an ordinary table's column may hold any class.
CREATE TABLE airports (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    city    TEXT NOT NULL,
    country TEXT NOT NULL
) STRICT;

CREATE TABLE flights (
    id            INTEGER PRIMARY KEY,
    flight_number TEXT    NOT NULL UNIQUE,
    airline       TEXT    NOT NULL,
    origin        TEXT    NOT NULL REFERENCES airports (code),
    destination   TEXT    NOT NULL REFERENCES airports (code),
    departure     TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    seats         INTEGER NOT NULL,
    price         REAL    NOT NULL
) STRICT;
CREATE INDEX flights_route_idx ON flights (origin, destination, departure);
CREATE INDEX flights_airline_idx ON flights (airline);

CREATE TABLE bookings (
    id         INTEGER PRIMARY KEY,
    flight_id  INTEGER NOT NULL REFERENCES flights (id),
    passenger  TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    seat       TEXT,
    checked_in BOOLEAN NOT NULL DEFAULT 0,
    booked_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (flight_id, seat)
);
CREATE INDEX bookings_flight_idx ON bookings (flight_id);
