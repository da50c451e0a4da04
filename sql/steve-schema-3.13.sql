-- SteVe >= 3.13 naming (evse / evse_pk, HEAD = 3.14.1): the tables chargebridge's binlog reader follows,
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
  ocpp_configuration JSON NULL DEFAULT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (charge_box_pk),
  UNIQUE KEY chargeBoxId_UNIQUE (charge_box_id),
  KEY chargebox_op_ep_idx (ocpp_protocol, endpoint_address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE evse (
  evse_pk INT UNSIGNED NOT NULL AUTO_INCREMENT,
  charge_box_id VARCHAR(255) NOT NULL,
  topology_source ENUM('ocpp1','ocpp2') NOT NULL,
  evse_id INT NOT NULL,
  evse_id_external VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (evse_pk),
  UNIQUE KEY evse_pk_UNIQUE (evse_pk),
  UNIQUE KEY evse_cbid_source_eid_UNIQUE (charge_box_id, topology_source, evse_id),
  CONSTRAINT FK_evse_charge_box_cbid FOREIGN KEY (charge_box_id)
    REFERENCES charge_box (charge_box_id) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE evse_connector (
  evse_evse_pk INT UNSIGNED NOT NULL AUTO_INCREMENT,
  evse_pk INT UNSIGNED NOT NULL,
  connector_id INT NOT NULL,
  connector_type VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (evse_evse_pk),
  UNIQUE KEY evse_connector_epk_cid_UNIQUE (evse_pk, connector_id),
  CONSTRAINT FK_evse_connector_evse FOREIGN KEY (evse_pk)
    REFERENCES evse (evse_pk) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE connector_status (
  evse_pk INT UNSIGNED NOT NULL,
  status_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  status VARCHAR(255) NULL DEFAULT NULL,
  error_code VARCHAR(255) NULL DEFAULT NULL,
  error_info VARCHAR(255) NULL DEFAULT NULL,
  vendor_id VARCHAR(255) NULL DEFAULT NULL,
  vendor_error_code VARCHAR(255) NULL DEFAULT NULL,
  KEY FK_cs_pk_idx (evse_pk),
  KEY connector_status_cpk_st_idx (evse_pk, status_timestamp),
  CONSTRAINT FK_cs_pk FOREIGN KEY (evse_pk)
    REFERENCES evse (evse_pk) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE ocpp_tag (
  ocpp_tag_pk INT NOT NULL AUTO_INCREMENT,
  id_tag VARCHAR(255) NOT NULL,
  parent_id_tag VARCHAR(255) NULL DEFAULT NULL,
  expiry_date TIMESTAMP(6) NULL DEFAULT NULL,
  max_active_transaction_count INT NOT NULL DEFAULT 1,
  note MEDIUMTEXT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (ocpp_tag_pk),
  UNIQUE KEY idTag_UNIQUE (id_tag),
  KEY user_expiryDate_idx (expiry_date),
  CONSTRAINT FK_ocpp_tag_parent_id_tag FOREIGN KEY (parent_id_tag)
    REFERENCES ocpp_tag (id_tag) ON DELETE NO ACTION ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE transaction_start (
  transaction_pk INT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  evse_pk INT UNSIGNED NOT NULL,
  id_tag VARCHAR(255) NOT NULL,
  start_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  start_value VARCHAR(255) NULL DEFAULT NULL,
  PRIMARY KEY (transaction_pk),
  KEY idTag_idx (id_tag),
  KEY evse_pk_idx (evse_pk),
  KEY transaction_start_idx (start_timestamp),
  CONSTRAINT FK_evse_pk_t FOREIGN KEY (evse_pk)
    REFERENCES evse (evse_pk) ON DELETE CASCADE ON UPDATE NO ACTION,
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
  evse_pk INT UNSIGNED NOT NULL,
  transaction_pk INT UNSIGNED NULL DEFAULT NULL,
  value_timestamp TIMESTAMP(6) NULL DEFAULT NULL,
  value TEXT NULL,
  reading_context VARCHAR(255) NULL DEFAULT NULL,
  format VARCHAR(255) NULL DEFAULT NULL,
  measurand VARCHAR(255) NULL DEFAULT NULL,
  location VARCHAR(255) NULL DEFAULT NULL,
  unit VARCHAR(255) NULL DEFAULT NULL,
  phase VARCHAR(255) NULL DEFAULT NULL,
  KEY evse_pk_idx (evse_pk),
  KEY cmv_transaction_pk_idx (transaction_pk),
  KEY cmv_value_timestamp_idx (value_timestamp),
  CONSTRAINT FK_pk_cm FOREIGN KEY (evse_pk)
    REFERENCES evse (evse_pk) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT FK_tid_cm FOREIGN KEY (transaction_pk)
    REFERENCES transaction_start (transaction_pk) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;
