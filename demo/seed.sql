-- Deterministic demo rows: 8 airports, 5,000 flights, 2,000 bookings.
INSERT INTO airports (code, name, city, country) VALUES
    ('SFO', 'San Francisco International', 'San Francisco', 'US'),
    ('JFK', 'John F. Kennedy International', 'New York', 'US'),
    ('LHR', 'Heathrow', 'London', 'GB'),
    ('CDG', 'Charles de Gaulle', 'Paris', 'FR'),
    ('FRA', 'Frankfurt', 'Frankfurt', 'DE'),
    ('NRT', 'Narita International', 'Tokyo', 'JP'),
    ('SYD', 'Kingsford Smith', 'Sydney', 'AU'),
    ('DXB', 'Dubai International', 'Dubai', 'AE');

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 5000),
codes(n, code) AS (VALUES (0, 'SFO'), (1, 'JFK'), (2, 'LHR'), (3, 'CDG'), (4, 'FRA'), (5, 'NRT'), (6, 'SYD'), (7, 'DXB')),
airlines(n, code) AS (VALUES (0, 'UA'), (1, 'DL'), (2, 'BA'), (3, 'AF'), (4, 'LH'), (5, 'NH'), (6, 'QF'), (7, 'EK'))
INSERT INTO flights (id, flight_number, airline, origin, destination, departure, status, seats, price)
SELECT i,
       (SELECT code FROM airlines WHERE n = i % 8) || substr('0000' || i, -4, 4),
       (SELECT code FROM airlines WHERE n = i % 8),
       (SELECT code FROM codes WHERE n = i % 8),
       (SELECT code FROM codes WHERE n = (i * 3 + 1) % 8),
       strftime('%Y-%m-%dT%H:%M:%SZ', '2026-12-01 00:00:00', '+' || (i * 37) || ' minutes'),
       CASE i % 6 WHEN 0 THEN 'scheduled' WHEN 1 THEN 'boarding' WHEN 2 THEN 'departed'
                  WHEN 3 THEN 'delayed' WHEN 4 THEN 'cancelled' ELSE 'landed' END,
       100 + (i * 7) % 200,
       round(49 + (i * 13) % 900 + (i % 100) / 100.0, 2)
FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 2000)
INSERT INTO bookings (id, flight_id, passenger, email, seat, checked_in, booked_at)
SELECT i,
       1 + (i * 7) % 5000,
       'Passenger ' || i,
       'passenger' || i || '@example.com',
       (1 + i % 30) || substr('ABCDEF', 1 + i % 6, 1),
       i % 3 = 0,
       strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-01 00:00:00', '+' || i || ' hours')
FROM seq;
