/** Text PostgreSQL reads, quoted the one way every provider writes it: SQL literals, libpq password files, names. */

/** A SQL string literal. */
export const sqlString = (value: string) => `'${value.replaceAll("'", "''")}'`;
/** A SQL identifier, always quoted. */
export const sqlIdentifier = (value: string) => `"${value.replaceAll('"', '""')}"`;
/** A field of a libpq password file: backslash and colon escaped. */
export const passfileField = (value: string) => value.replaceAll("\\", "\\\\").replaceAll(":", "\\:");
/** The application_name a standby's db server replicates under (pg_stat_replication shows it). */
export const replicationApplicationName = (dbServerName: string) => dbServerName.replaceAll("-", "_");
