-- Undoes V4 on an explicit rollback: order lines are lost, orders themselves are kept.
DROP INDEX order_items_sku_idx;
DROP TABLE order_items;
