-- flashCharge's patched SteVe stores every DataTransfer in this table (created by hand in that project).
-- When it exists, chargebridge's binlog reader turns its INSERTs into dataTransfer events.
CREATE TABLE IF NOT EXISTS data_transfer (
  id INT NOT NULL AUTO_INCREMENT,
  charge_box_id VARCHAR(255) NULL DEFAULT NULL,
  vendor_id VARCHAR(255) NULL DEFAULT NULL,
  message_id VARCHAR(255) NULL DEFAULT NULL,
  data TEXT NULL,
  received_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_charge_box (charge_box_id),
  KEY idx_message_id (message_id),
  KEY idx_received_at (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;
