CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    passenger TEXT NOT NULL,
    flight TEXT NOT NULL,
    dept TEXT NOT NULL
);
