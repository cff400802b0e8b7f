-- The schema every engine's test database is made from (SQLite's through schemaFile, the
-- servers' by the test): tables with a primary key, a unique and a plain index, a view, rows.
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL UNIQUE, name VARCHAR(200));
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total DECIMAL(10, 2), note TEXT);
CREATE INDEX orders_by_customer ON orders (customer_id, total);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
INSERT INTO customers VALUES (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob');
INSERT INTO orders VALUES (1, 1, 50.00, 'first'), (2, 1, 150.00, NULL), (3, 2, 20.00, 'x');
