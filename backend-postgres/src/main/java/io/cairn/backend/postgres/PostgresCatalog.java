package io.cairn.backend.postgres;

import io.cairn.persistence.BackendStats;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a {@link PostgresBackend}'s schema holds, read from its tables (layout on {@link
 * PostgresSchema}): the list of stores, counts and sizes per store, the schema's size on disk and
 * the server's settings that decide durability. Stateless; each answer is one call on the pool.
 */
final class PostgresCatalog {
  private PostgresCatalog() {}

  /** Distinct values of the leading primary-key column, skipping through the index. */
  private static final String DISTINCT =
      "WITH RECURSIVE d(v) AS (SELECT min(%2$s) FROM %1$s UNION ALL"
          + " SELECT (SELECT min(%2$s) FROM %1$s WHERE %2$s > d.v) FROM d WHERE d.v IS NOT NULL)"
          + " SELECT v FROM d WHERE v IS NOT NULL";

  /** The stores in the schema (see {@link io.cairn.persistence.StorageBackend#stores()}). */
  static SortedSet<StoreId> stores(PostgresPool pool) {
    return pool.call(
        "list stores",
        null,
        c -> {
          SortedSet<StoreId> out = new TreeSet<>();
          addNames(c, String.format(DISTINCT, "kv", "ns"), StoreKind.KEY_VALUE, out);
          addNames(c, "SELECT log FROM log_head", StoreKind.LOG, out);
          addNames(c, String.format(DISTINCT, "snapshot", "store"), StoreKind.SNAPSHOT, out);
          return Collections.unmodifiableSortedSet(out);
        });
  }

  private static void addNames(Connection c, String sql, StoreKind kind, SortedSet<StoreId> out)
      throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(new StoreId(kind, rs.getString(1)));
      }
    }
  }

  /** Counts and sizes per store and the server's facts (see {@link PostgresBackend#stats()}). */
  static BackendStats stats(
      PostgresPool pool, String name, PostgresSettings settings, String serverFacts) {
    return pool.call(
        "stats",
        null,
        c -> {
          List<StoreStats> stores = new ArrayList<>();
          collect(
              c,
              "SELECT ns, count(*), sum(length(key) + length(value)) FROM kv GROUP BY ns",
              StoreKind.KEY_VALUE,
              stores);
          collect(
              c,
              "SELECT h.log, count(r.record_offset), coalesce(sum(length(r.payload)), 0)"
                  + " FROM log_head h LEFT JOIN log_record r ON r.log = h.log GROUP BY h.log",
              StoreKind.LOG,
              stores);
          collect(
              c,
              "SELECT store, count(*), sum(size) FROM snapshot GROUP BY store",
              StoreKind.SNAPSHOT,
              stores);
          stores.sort((a, b) -> a.store().compareTo(b.store()));
          Map<String, String> props = new LinkedHashMap<>();
          try (Statement st = c.createStatement()) {
            props.put("server_version", serverFacts);
            props.put("synchronous_commit", one(st, "SHOW synchronous_commit"));
            props.put("fsync", one(st, "SHOW fsync"));
            props.put("wal_writer_delay", one(st, "SHOW wal_writer_delay"));
            props.put("database", one(st, "SELECT current_database()"));
            props.put("schema", settings.schema());
            props.put("schema_version", one(st, "SELECT version FROM cairn_schema WHERE id = 1"));
            props.put("pool_size", String.valueOf(settings.poolSize()));
            props.put("pool_active", String.valueOf(pool.counts().getActiveConnections()));
          }
          long bytes = schemaBytes(c);
          return new BackendStats(name, PostgresBackendProvider.TYPE, stores, bytes, props);
        });
  }

  private static void collect(Connection c, String sql, StoreKind kind, List<StoreStats> out)
      throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(new StoreStats(new StoreId(kind, rs.getString(1)), rs.getLong(2), rs.getLong(3)));
      }
    }
  }

  /** The bytes Cairn's tables take on the server, indexes and TOAST included. */
  static long schemaBytes(Connection c) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT 0");
    for (String t : PostgresSchema.TABLES) {
      sql.append(" + pg_total_relation_size(to_regclass('").append(t).append("'))");
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql.toString())) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The single value {@code sql} returns. */
  static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
