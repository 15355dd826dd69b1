-- Where an order stands. Existing orders count as placed.
ALTER TABLE orders ADD COLUMN status VARCHAR(20) NOT NULL DEFAULT 'placed'
    CHECK (status IN ('placed', 'paid', 'shipped', 'cancelled'));

CREATE INDEX orders_status_idx ON orders (status);
