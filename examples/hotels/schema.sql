-- The hotels table of the reference's quickstart, with its ten sample rows. `tests/setup-databases.sh`
-- loads it into the `toolbox_hotels` database, which the build describes the statements of
-- tools.yaml against; tests/peers/hotels.py loads it into a database of its own.
CREATE TABLE hotels (
    id            SERIAL  PRIMARY KEY,
    name          VARCHAR NOT NULL,
    location      VARCHAR NOT NULL,
    price_tier    VARCHAR NOT NULL,
    checkin_date  DATE    NOT NULL,
    checkout_date DATE    NOT NULL,
    booked        BIT     NOT NULL
);

INSERT INTO hotels (id, name, location, price_tier, checkin_date, checkout_date, booked) VALUES
    (1, 'Hilton Basel', 'Basel', 'Luxury', '2024-04-22', '2024-04-20', B'0'),
    (2, 'Marriott Zurich', 'Zurich', 'Upscale', '2024-04-14', '2024-04-21', B'0'),
    (3, 'Hyatt Regency Basel', 'Basel', 'Upper Upscale', '2024-04-02', '2024-04-20', B'0'),
    (4, 'Radisson Blu Lucerne', 'Lucerne', 'Midscale', '2024-04-24', '2024-04-05', B'0'),
    (5, 'Best Western Bern', 'Bern', 'Upper Midscale', '2024-04-23', '2024-04-01', B'0'),
    (6, 'InterContinental Geneva', 'Geneva', 'Luxury', '2024-04-23', '2024-04-28', B'0'),
    (7, 'Sheraton Zurich', 'Zurich', 'Upper Upscale', '2024-04-27', '2024-04-02', B'0'),
    (8, 'Holiday Inn Basel', 'Basel', 'Upper Midscale', '2024-04-24', '2024-04-09', B'0'),
    (9, 'Courtyard Zurich', 'Zurich', 'Upscale', '2024-04-03', '2024-04-13', B'0'),
    (10, 'Comfort Inn Bern', 'Bern', 'Midscale', '2024-04-04', '2024-04-16', B'0');

-- The rows above name their ids; the sequence continues after them.
SELECT setval(pg_get_serial_sequence('hotels', 'id'), (SELECT max(id) FROM hotels));
