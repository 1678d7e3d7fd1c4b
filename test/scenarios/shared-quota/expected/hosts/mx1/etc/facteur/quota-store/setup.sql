-- mx1.relais.tld: the quota store's role, database and table. Rendered by facteur; run by
-- `psql -v ON_ERROR_STOP=1` as postgres after every apply (idempotent). Holds the password.
SELECT 'CREATE ROLE facteur_quota LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'facteur_quota')\gexec
ALTER ROLE facteur_quota LOGIN PASSWORD '${secret:quotaStorePassword}';
SELECT 'CREATE DATABASE facteur_quota OWNER facteur_quota' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'facteur_quota')\gexec
\connect facteur_quota
SET ROLE facteur_quota;
-- policyd-rate-limit's own table (one row per counted recipient), made here with room for any
-- login: policyd would create it with varchar(40), and a longer login would then never count.
CREATE TABLE IF NOT EXISTS mail_count (id varchar(320) NOT NULL, date bigint NOT NULL);
CREATE INDEX IF NOT EXISTS mail_count_index ON mail_count (id, date);
