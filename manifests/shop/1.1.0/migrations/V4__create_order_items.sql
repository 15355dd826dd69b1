-- The lines of an order (new in 1.1.0).
CREATE TABLE order_items (
    order_id     INTEGER     NOT NULL REFERENCES orders (id),
    line_no      INTEGER     NOT NULL,
    sku          VARCHAR(64) NOT NULL,
    quantity     INTEGER     NOT NULL CHECK (quantity > 0),
    price_cents  INTEGER     NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE INDEX order_items_sku_idx ON order_items (sku);
