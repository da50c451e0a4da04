-- SteVe <= 3.12 naming (connector / connector_pk): the tables chargebridge's binlog reader follows,
-- plus what their foreign keys need. For tests and for trying the reader without a SteVe install;
-- a real SteVe database already has these (created by SteVe's own migrations).
-- Charset/collation as SteVe uses them: utf8mb3 / utf8mb3_unicode_ci.

CREATE TABLE charge_box (
  charge_box_pk INT NOT NULL AUTO_INCREMENT,
  charge_box_id VARCHAR(255) NOT NULL,
  endpoint_address VARCHAR(255) NULL DEFAULT NULL,
  ocpp_protocol VARCHAR(255) NULL DEFAULT NULL,
  registration_status VARCHAR(255) NOT NULL DEFAULT 'Accepted',
  charge_point_vendor VARCHAR(255) NULL DEFAULT NULL,
  charge_point_model VARCHAR(255) NULL DEFAULT NULL,
  charge_point_serial_number VARCHAR(255) NULL DEFAULT NULL,
  charge_box_serial_number VARCHAR(255) NULL DEFAULT NULL,
  fw_version VARCHAR(255) NULL DEFAULT NULL,
  fw_update_status VARCHAR(255) NULL DEFAULT NULL,
  fw_update_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  iccid VARCHAR(255) NULL DEFAULT NULL,
  imsi VARCHAR(255) NULL DEFAULT NULL,
  meter_type VARCHAR(255) NULL DEFAULT NULL,
  meter_serial_number VARCHAR(255) NULL DEFAULT NULL,
  diagnostics_status VARCHAR(255) NULL DEFAULT NULL,
  diagnostics_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  last_heartbeat_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  description MEDIUMTEXT NULL,
  note MEDIUMTEXT NULL,
  admin_address VARCHAR(255) NULL DEFAULT NULL,
  insert_connector_status_after_transaction_msg TINYINT(1) NULL DEFAULT 1,
  address_pk INT NULL DEFAULT NULL,
  security_profile INT NOT NULL DEFAULT 0,
  auth_password VARCHAR(500) NULL DEFAULT NULL,
  cpo_name VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (charge_box_pk),
  UNIQUE KEY chargeBoxId_UNIQUE (charge_box_id),
  KEY chargebox_op_ep_idx (ocpp_protocol, endpoint_address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE connector (
  connector_pk INT UNSIGNED NOT NULL AUTO_INCREMENT,
  charge_box_id VARCHAR(255) NOT NULL,
  connector_id INT NOT NULL,
  PRIMARY KEY (connector_pk),
  UNIQUE KEY connector_pk_UNIQUE (connector_pk),
  UNIQUE KEY connector_cbid_cid_UNIQUE (charge_box_id, connector_id),
  CONSTRAINT FK_connector_charge_box_cbid FOREIGN KEY (charge_box_id)
    REFERENCES charge_box (charge_box_id) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE connector_status (
  connector_pk INT UNSIGNED NOT NULL,
  status_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  status VARCHAR(255) NULL DEFAULT NULL,
  error_code VARCHAR(255) NULL DEFAULT NULL,
  error_info VARCHAR(255) NULL DEFAULT NULL,
  vendor_id VARCHAR(255) NULL DEFAULT NULL,
  vendor_error_code VARCHAR(255) NULL DEFAULT NULL,
  KEY FK_cs_pk_idx (connector_pk),
  KEY connector_status_cpk_st_idx (connector_pk, status_timestamp),
  CONSTRAINT FK_cs_pk FOREIGN KEY (connector_pk)
    REFERENCES connector (connector_pk) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE ocpp_tag (
  ocpp_tag_pk INT NOT NULL AUTO_INCREMENT,
  id_tag VARCHAR(255) NOT NULL,
  parent_id_tag VARCHAR(255) NULL DEFAULT NULL,
  expiry_date TIMESTAMP(6) NULL DEFAULT NULL,
  max_active_transaction_count INT NOT NULL DEFAULT 1,
  note MEDIUMTEXT NULL,
  PRIMARY KEY (ocpp_tag_pk),
  UNIQUE KEY idTag_UNIQUE (id_tag),
  KEY user_expiryDate_idx (expiry_date),
  CONSTRAINT FK_ocpp_tag_parent_id_tag FOREIGN KEY (parent_id_tag)
    REFERENCES ocpp_tag (id_tag) ON DELETE NO ACTION ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE transaction_start (
  transaction_pk INT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  connector_pk INT UNSIGNED NOT NULL,
  id_tag VARCHAR(255) NOT NULL,
  start_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  start_value VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (transaction_pk),
  KEY idTag_idx (id_tag),
  KEY connector_pk_idx (connector_pk),
  KEY transaction_start_idx (start_timestamp),
  CONSTRAINT FK_connector_pk_t FOREIGN KEY (connector_pk)
    REFERENCES connector (connector_pk) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT FK_transaction_ocpp_tag_id_tag FOREIGN KEY (id_tag)
    REFERENCES ocpp_tag (id_tag) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE transaction_stop (
  transaction_pk INT UNSIGNED NOT NULL,
  event_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  event_actor ENUM('station','manual') NULL DEFAULT NULL,
  stop_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  stop_value VARCHAR(255) NOT NULL,
  stop_reason VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (transaction_pk, event_timestamp),
  CONSTRAINT FK_transaction_stop_transaction_pk FOREIGN KEY (transaction_pk)
    REFERENCES transaction_start (transaction_pk) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE transaction_stop_failed (
  transaction_pk INT NULL DEFAULT NULL,
  charge_box_id VARCHAR(255) NULL DEFAULT NULL,
  event_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  event_actor ENUM('station','manual') NULL DEFAULT NULL,
  stop_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  stop_value VARCHAR(255) NULL DEFAULT NULL,
  stop_reason VARCHAR(255) NULL DEFAULT NULL,
  fail_reason TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE connector_meter_value (
  connector_pk INT UNSIGNED NOT NULL,
  transaction_pk INT UNSIGNED NULL DEFAULT NULL,
  value_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  value TEXT NULL,
  reading_context VARCHAR(255) NULL DEFAULT NULL,
  format VARCHAR(255) NULL DEFAULT NULL,
  measurand VARCHAR(255) NULL DEFAULT NULL,
  location VARCHAR(255) NULL DEFAULT NULL,
  unit VARCHAR(255) NULL DEFAULT NULL,
  phase VARCHAR(255) NULL DEFAULT NULL,
  KEY connector_pk_idx (connector_pk),
  KEY cmv_transaction_pk_idx (transaction_pk),
  KEY cmv_value_timestamp_idx (value_timestamp),
  CONSTRAINT FK_pk_cm FOREIGN KEY (connector_pk)
    REFERENCES connector (connector_pk) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT FK_tid_cm FOREIGN KEY (transaction_pk)
    REFERENCES transaction_start (transaction_pk) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;
