-- Account for chargebridge's binlog reader (STEVE_DB_URL). Run as an administrator of SteVe's server.
-- Replace the password; restrict the host part to the gateway's address where you can.
--   REPLICATION SLAVE   read the binlog stream as a replica
--   REPLICATION CLIENT  list binlogs / read positions (shown as BINLOG MONITOR on MariaDB >= 10.5)
--   SELECT              the consistent snapshot and the start-up cache reads (SteVe's schema only)
--   RELOAD              MySQL only: its snapshot (first start, purged binlog) holds writes for a moment with
--                       FLUSH TABLES WITH READ LOCK; MariaDB's snapshot needs no lock, so leave it out there
-- The reader never writes.
-- A fresh MariaDB has anonymous accounts (''@'localhost') that win over 'chargebridge_cdc'@'%' for connections
-- from the server's own host ("Access denied" although the password is right): drop them first, or create the
-- account for the exact host the gateway connects from.
--   DROP USER IF EXISTS ''@'localhost';
-- STEVE_DB_URL=mysql://chargebridge_cdc:change-me@<db-host>:3306/stevedb
CREATE USER IF NOT EXISTS 'chargebridge_cdc'@'%' IDENTIFIED BY 'change-me';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'chargebridge_cdc'@'%';
GRANT SELECT ON stevedb.* TO 'chargebridge_cdc'@'%';
-- MySQL only:
-- GRANT RELOAD ON *.* TO 'chargebridge_cdc'@'%';
