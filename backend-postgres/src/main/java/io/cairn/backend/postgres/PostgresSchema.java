package io.cairn.backend.postgres;

import io.cairn.persistence.StorageEngineException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The tables of one PostgreSQL backend, all in its {@code schema}, and how they are created and
 * migrated.
 *
 * <h2>Layout (schema version 1)</h2>
 *
 * <pre>
 * cairn_schema   (id = 1, version, updated_at, updated_by)  -- one row: the layout version
 * kv             (ns, key, value, version, expires_at, crc)   PRIMARY KEY (ns, key)
 *                kv_expiry: index on expires_at WHERE expires_at &lt;&gt; 0 (for the sweeper)
 * kv_version     sequence, INCREMENT BY 1000: each call hands a process a block of versions
 * log_head       (log, first_offset, next_offset)             PRIMARY KEY (log)
 * log_record     (log, record_offset, payload, crc, appended_at) PRIMARY KEY (log, record_offset)
 *                appended_at: epoch millis by the backend clock at append; -1 = not recorded
 *                (rows written before the append-time step); in the row checksum unless -1
 * snapshot       (store, version, save_id, size, crc, created_at, chunks, row_crc)
 *                                                             PRIMARY KEY (store, version)
 * snapshot_chunk (save_id, seq, data, crc)                    PRIMARY KEY (save_id, seq)
 * snapshot_save  sequence of save ids
 * </pre>
 *
 * Names ({@code ns}, {@code log}, {@code store}) are {@code text COLLATE "C"}; keys, values and
 * payloads {@code bytea}, which PostgreSQL orders by unsigned bytes (memcmp), the order {@link
 * io.cairn.persistence.KeyValueStore#scan} promises. {@code expires_at} is milliseconds since the
 * epoch by the backend's clock, 0 for none. Values, payloads and chunks are stored sealed when
 * encryption is on.
 *
 * <h2>Checksums</h2>
 *
 * Each row carries a CRC-32C ({@link PgChecksums}) over every column that decides what a read
 * returns: kv over namespace, key, version, expiry and value; log_record over log, offset and
 * payload; snapshot over all its columns; snapshot_chunk over save id, index and data. PostgreSQL's
 * own page checksums are optional (initdb -k) and cover only the page, not which key a row answers
 * for.
 *
 * <h2>Invariants (checked by verify)</h2>
 *
 * <ul>
 *   <li>A log's records are exactly {@code first_offset .. next_offset - 1}: an append locks its
 *       {@code log_head} row (UPDATE ... RETURNING), so appenders to one log take offsets one after
 *       another and commit in that order; a rolled-back append rolls back the counter with it, so
 *       no offset is skipped, and {@code next_offset} never decreases, so none is reused.
 *   <li>Each snapshot row has exactly {@code chunks} chunk rows, numbered 0 to chunks - 1. A save
 *       is one transaction, so a crash leaves no partial snapshot and no orphan chunks.
 * </ul>
 *
 * <h2>Migrations</h2>
 *
 * {@link #migrate} runs in one transaction under a transaction-scoped advisory lock on the schema
 * name, so several instances starting at once migrate once: it creates the schema if needed, reads
 * {@code cairn_schema.version} (absent = 0), refuses a version newer than {@link #VERSION} with a
 * message naming both, and applies each step from the stored version up to {@link #VERSION},
 * recording the new version. DDL in PostgreSQL is transactional: a failed migration leaves the old
 * layout intact.
 */
final class PostgresSchema {
  /** The layout version this code writes and reads. */
  static final int VERSION = 2;

  /** Versions handed out per call of nextval('kv_version'). */
  static final int VERSION_BLOCK = 1000;

  private PostgresSchema() {}

  /**
   * The log append-time step, self-contained: adds {@code log_record.appended_at}, -1 (not
   * recorded) for existing rows, whose checksums stay valid (PgChecksums.log). Planned as schema
   * version 3, after the queue table of version 2 from another branch; until both are merged it is
   * the next step here. The lead orders the steps at merge (it must follow every released step).
   */
  static final List<String> LOG_APPEND_TIME_STEP =
      List.of("ALTER TABLE log_record ADD COLUMN appended_at bigint NOT NULL DEFAULT -1");

  /** Step k creates version k + 1 from version k. */
  private static final List<List<String>> STEPS =
      List.of(
          List.of(
              "CREATE TABLE cairn_schema (id integer PRIMARY KEY CHECK (id = 1),"
                  + " version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),"
                  + " updated_by text NOT NULL)",
              "CREATE TABLE kv (ns text COLLATE \"C\" NOT NULL, key bytea NOT NULL,"
                  + " value bytea NOT NULL, version bigint NOT NULL, expires_at bigint NOT NULL,"
                  + " crc integer NOT NULL, PRIMARY KEY (ns, key))",
              "CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at <> 0",
              "CREATE SEQUENCE kv_version INCREMENT BY " + VERSION_BLOCK + " START WITH 1",
              "CREATE TABLE log_head (log text COLLATE \"C\" PRIMARY KEY,"
                  + " first_offset bigint NOT NULL, next_offset bigint NOT NULL,"
                  + " CHECK (0 <= first_offset AND first_offset <= next_offset))",
              "CREATE TABLE log_record (log text COLLATE \"C\" NOT NULL,"
                  + " record_offset bigint NOT NULL, payload bytea NOT NULL, crc integer NOT NULL,"
                  + " PRIMARY KEY (log, record_offset))",
              "CREATE TABLE snapshot (store text COLLATE \"C\" NOT NULL, version bigint NOT NULL,"
                  + " save_id bigint NOT NULL UNIQUE, size bigint NOT NULL, crc bigint NOT NULL,"
                  + " created_at bigint NOT NULL, chunks integer NOT NULL,"
                  + " row_crc integer NOT NULL, PRIMARY KEY (store, version))",
              "CREATE TABLE snapshot_chunk (save_id bigint NOT NULL, seq integer NOT NULL,"
                  + " data bytea NOT NULL, crc integer NOT NULL, PRIMARY KEY (save_id, seq))",
              "CREATE SEQUENCE snapshot_save"),
          LOG_APPEND_TIME_STEP);

  /** Tables, for stats and compact. */
  static final List<String> TABLES =
      List.of("kv", "log_head", "log_record", "snapshot", "snapshot_chunk", "cairn_schema");

  /** A 32-bit key for advisory locks on this schema (collisions only serialise needlessly). */
  static int lockKey(String schema) {
    return ("cairn:" + schema).hashCode();
  }

  /** The classid half of Cairn's two-part advisory lock keys. */
  static final int LOCK_CLASS_MIGRATE = 0x43414952; // "CAIR"

  static final int LOCK_CLASS_TX = 0x43414953;
  static final int LOCK_CLASS_SNAPSHOT = 0x43414954;

  /**
   * Creates or migrates {@code schema} on {@code c} (autocommit on entry and on return) and returns
   * the version found before migrating (0 for a new schema).
   *
   * @throws StorageEngineException if the schema is newer than this code
   */
  static int migrate(Connection c, String schema, String describe) throws SQLException {
    c.setAutoCommit(false);
    try {
      try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
        lock.setInt(1, LOCK_CLASS_MIGRATE);
        lock.setInt(2, lockKey(schema));
        lock.execute();
      }
      try (Statement st = c.createStatement()) {
        st.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
        st.execute("SET LOCAL search_path TO " + schema);
      }
      int found = 0;
      try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
        ps.setString(1, schema + ".cairn_schema");
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            try (Statement st = c.createStatement();
                ResultSet v = st.executeQuery("SELECT version FROM cairn_schema WHERE id = 1")) {
              found = v.next() ? v.getInt(1) : 0;
            }
          }
        }
      }
      if (found > VERSION) {
        throw new StorageEngineException(
            "Cannot open "
                + describe
                + ": schema '"
                + schema
                + "' has Cairn layout version "
                + found
                + ", newer than version "
                + VERSION
                + " that this Cairn understands (it was written by a newer Cairn). Nothing was"
                + " changed. Upgrade this service's Cairn, or point it at another schema.",
            null);
      }
      try (Statement st = c.createStatement()) {
        for (int v = found; v < VERSION; v++) {
          for (String ddl : STEPS.get(v)) {
            st.execute(ddl);
          }
        }
        if (found < VERSION) {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO cairn_schema (id, version, updated_by) VALUES (1, ?, ?)"
                      + " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,"
                      + " updated_at = now(), updated_by = EXCLUDED.updated_by")) {
            ps.setInt(1, VERSION);
            ps.setString(2, "cairn-backend-postgres " + describe);
            ps.executeUpdate();
          }
        }
      }
      c.commit();
      return found;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }
}
