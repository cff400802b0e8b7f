-- Schema of the PostgreSQL example. The build describes the statements of tools.yaml against a
-- database made from this file (see README.md); tests create their own database from it.
CREATE TABLE flights (
    id            SERIAL PRIMARY KEY,
    flight_number TEXT        NOT NULL UNIQUE,
    airline       TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    departure     TIMESTAMPTZ NOT NULL,
    seats         INTEGER     NOT NULL,
    price         NUMERIC(8, 2) NOT NULL
);
CREATE INDEX flights_airline_idx ON flights (airline);

INSERT INTO flights (flight_number, airline, status, departure, seats, price)
SELECT (ARRAY['CY', 'UA', 'DL', 'AA', 'BA', 'LH', 'AF', 'QF'])[i % 8 + 1] || lpad(i::text, 4, '0'),
       (ARRAY['CY', 'UA', 'DL', 'AA', 'BA', 'LH', 'AF', 'QF'])[i % 8 + 1],
       (ARRAY['scheduled', 'boarding', 'departed', 'delayed', 'cancelled', 'landed'])[i % 6 + 1],
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + make_interval(mins => i * 37),
       100 + (i * 7) % 200,
       round(49 + (i * 13) % 900 + (i % 100) / 100.0, 2)
FROM generate_series(1, 5000) AS i;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');

-- One column of every type the toolbox encodes; the golden test checks the exact JSON.
CREATE TABLE all_types (
    id     INT4 PRIMARY KEY,
    small  INT2,
    big    INT8,
    exact  NUMERIC(10, 2),
    real4  FLOAT4,
    real8  FLOAT8,
    flag   BOOL,
    txt    TEXT,
    vc     VARCHAR(20),
    ch     CHAR(3),
    nm     NAME,
    uid    UUID,
    d      DATE,
    t      TIME,
    ts     TIMESTAMP,
    tstz   TIMESTAMPTZ,
    iv     INTERVAL,
    js     JSON,
    jsb    JSONB,
    bin    BYTEA,
    ints   INT4[],
    texts  TEXT[],
    m      mood
);
INSERT INTO all_types VALUES
    (1, -32768, 9007199254740993, 49.00, 1.5, 0.1, true, 'héllo "quoted"', 'varchar', 'ab', 'a_name',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2025-01-31', '13:45:30.5', '2025-01-31 13:45:30.123456',
     '2025-01-31 13:45:30+02', '1 year 2 months 3 days 04:05:06.5', '{"a": [1, 2.5, null]}', '{"b": true}',
     '\x00ff10', '{1, NULL, 3}', '{"x", "y z"}', 'happy'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL);
