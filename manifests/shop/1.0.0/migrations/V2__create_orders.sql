-- Orders placed by customers; amounts in cents to stay exact on every database.
CREATE TABLE orders (
    id           INTEGER   PRIMARY KEY,
    customer_id  INTEGER   NOT NULL REFERENCES customers (id),
    total_cents  INTEGER   NOT NULL CHECK (total_cents >= 0),
    currency     CHAR(3)   NOT NULL DEFAULT 'EUR',
    placed_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);
