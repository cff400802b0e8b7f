-- A schema script that fails: the comma after PRIMARY KEY is missing.
CREATE TABLE flights (id INTEGER PRIMARY KEY flight_number TEXT);
