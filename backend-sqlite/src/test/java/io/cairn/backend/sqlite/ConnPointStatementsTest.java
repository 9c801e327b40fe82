package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.DriverManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Conn#queryBlob}: its statements are bounded per connection and still answer right. */
class ConnPointStatementsTest {
  @TempDir Path dir;

  @Test
  void keepsAtMostItsBoundOfPointStatementsAndEachStillAnswers() throws Exception {
    try (Conn c = new Conn(DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("t.db")))) {
      c.execOnce("CREATE TABLE t (n INTEGER, k BLOB, v BLOB, PRIMARY KEY (n, k)) WITHOUT ROWID");
      int stores = Conn.POINT_STATEMENTS * 2;
      for (int n = 0; n < stores; n++) {
        c.execOnce("INSERT INTO t VALUES (" + n + ", x'01', x'" + String.format("%02x", n) + "')");
      }
      c.execOnce("INSERT INTO t VALUES (0, x'02', x'')");
      for (int pass = 0; pass < 2; pass++) {
        for (int n = 0; n < stores; n++) {
          String sql = "SELECT v FROM t WHERE n = " + n + " AND k = ?";
          assertThat(c.queryBlob(sql, new byte[] {1})).containsExactly((byte) n);
          assertThat(c.queryBlob(sql, new byte[] {3})).isNull();
          assertThat(c.pointStatementCount()).isLessThanOrEqualTo(Conn.POINT_STATEMENTS);
        }
      }
      assertThat(c.pointStatementCount()).isEqualTo(Conn.POINT_STATEMENTS);
      assertThat(c.queryBlob("SELECT v FROM t WHERE n = 0 AND k = ?", new byte[] {2})).isEmpty();
      c.resetStatements();
      assertThat(c.pointStatementCount()).isZero();
    }
  }
}
