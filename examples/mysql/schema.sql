-- Schema of the MySQL/MariaDB example. The build describes the statements of tools.yaml against
-- a database made from this file (see README.md); tests create their own database from it.
CREATE TABLE flights (
    id            INT AUTO_INCREMENT PRIMARY KEY,
    flight_number VARCHAR(16)   NOT NULL UNIQUE,
    airline       CHAR(2)       NOT NULL,
    status        VARCHAR(16)   NOT NULL,
    departure     DATETIME      NOT NULL,
    seats         INT           NOT NULL,
    price         DECIMAL(8, 2) NOT NULL,
    INDEX flights_airline_idx (airline)
);

INSERT INTO flights (flight_number, airline, status, departure, seats, price)
SELECT CONCAT(ELT(i % 8 + 1, 'CY', 'UA', 'DL', 'AA', 'BA', 'LH', 'AF', 'QF'), LPAD(i, 4, '0')),
       ELT(i % 8 + 1, 'CY', 'UA', 'DL', 'AA', 'BA', 'LH', 'AF', 'QF'),
       ELT(i % 6 + 1, 'scheduled', 'boarding', 'departed', 'delayed', 'cancelled', 'landed'),
       TIMESTAMP '2025-01-01 00:00:00' + INTERVAL (i * 37) MINUTE,
       100 + (i * 7) % 200,
       ROUND(49 + (i * 13) % 900 + (i % 100) / 100.0, 2)
FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 AS i
      FROM (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a,
           (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b,
           (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) c,
           (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) e) seq
ORDER BY i;

-- One column of every type the toolbox encodes; the golden test checks the exact JSON.
CREATE TABLE all_types (
    id     INT PRIMARY KEY,
    tiny   TINYINT,
    small  SMALLINT,
    medium MEDIUMINT,
    big    BIGINT,
    ubig   BIGINT UNSIGNED,
    flag   TINYINT(1),
    exact  DECIMAL(10, 2),
    f4     FLOAT,
    f8     DOUBLE,
    ch     CHAR(3),
    vc     VARCHAR(20),
    txt    TEXT,
    d      DATE,
    dt     DATETIME(3),
    ts     TIMESTAMP NULL,
    t      TIME,
    js     JSON,
    bl     BLOB,
    bn     BINARY(3)
);
INSERT INTO all_types VALUES
    (1, -128, -32768, 8388607, 9007199254740993, 18446744073709551615, 1, 49.00, 1.5, 0.1, 'ab',
     'varchar', 'héllo "quoted"', '2025-01-31', '2025-01-31 13:45:30.123', '2025-01-31 13:45:30',
     '-12:30:00', '{"a": [1, 2.5, null]}', X'00FF10', X'616263'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL);
