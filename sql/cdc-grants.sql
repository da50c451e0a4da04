-- Account for chargebridge's binlog reader (STEVE_DB_URL). Run as an administrator of SteVe's server.
-- Replace the password; restrict the host part to the gateway's address where you can.
--   REPLICATION SLAVE   read the binlog stream as a replica
--   REPLICATION CLIENT  list binlogs / read positions (shown as BINLOG MONITOR on MariaDB >= 10.5)
--   SELECT              the consistent snapshot and the start-up cache reads (SteVe's schema only)
--   RELOAD              MySQL only: its snapshot (first start, purged binlog) holds writes for a moment with
--                       FLUSH TABLES WITH READ LOCK; MariaDB's snapshot needs no lock, so leave it out there
-- The reader never writes.
CREATE USER IF NOT EXISTS 'chargebridge_cdc'@'%' IDENTIFIED BY 'change-me';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'chargebridge_cdc'@'%';
GRANT SELECT ON stevedb.* TO 'chargebridge_cdc'@'%';
-- MySQL only:
-- GRANT RELOAD ON *.* TO 'chargebridge_cdc'@'%';
