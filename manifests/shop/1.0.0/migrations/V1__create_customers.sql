-- Customers of the shop. Portable SQL: runs unchanged on PostgreSQL and SQLite.
CREATE TABLE customers (
    id          INTEGER      PRIMARY KEY,
    email       VARCHAR(320) NOT NULL UNIQUE,
    full_name   VARCHAR(200) NOT NULL,
    created_at  TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
