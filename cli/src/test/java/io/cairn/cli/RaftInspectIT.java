package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftSnapshotChunk;
import io.cairn.raft.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn raft inspect} through the real shaded jar in a child JVM (issue 18): a group's state
 * written by {@link RaftStorage} on SQLite and on RocksDB is shown as text and as JSON without
 * entry payloads, nothing is changed (entries a crash left outside the live log are still there
 * afterwards), damage exits 1, an unknown group or a backend without data exits 2 and creates
 * nothing.
 */
class RaftInspectIT {
  @TempDir Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] logKey(long index) {
    return ByteBuffer.allocate(8).putLong(index).array();
  }

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  private Path conf(String name, String text) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return f;
  }

  /** Opens backend {@code main} of {@code text} in this JVM, runs {@code work}, closes it. */
  private void withBackend(String text, Consumer<StorageBackend> work) {
    try (PersistenceRegistry r =
        PersistenceRegistry.builder().baseDirectory(dir).open(ConfigFactory.parseString(text))) {
      work.accept(r.backend("main"));
    }
  }

  private static Config json(String text) {
    return ConfigFactory.parseString(
        text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
  }

  private static void assertNoTrace(JarRunner r) {
    assertThat(r.all()).doesNotContain("\tat ");
  }

  @Test
  void showsAGroupOnSqliteAndRocksDbReadOnlyAsTextAndJson() throws IOException {
    for (String type : List.of("sqlite", "rocksdb")) {
      Path data = dir.resolve("data-" + type);
      String backends =
          "cairn.backends.main { type = "
              + type
              + ", durability = full, data-dir = \""
              + data
              + "\" }\n";
      Path f = conf(type + ".conf", backends + "cairn.raft-groups.orders { backend = main }\n");
      withBackend(
          backends,
          b -> {
            RaftStorage st = RaftStorage.open(b, "orders");
            st.persistLocalEndpoint(bytes("n1"));
            st.persistMembership(bytes("n1,n2,n3"));
            st.persistTerm(3, bytes("n2"));
            st.append(
                LongStream.rangeClosed(1, 40)
                    .mapToObj(i -> new RaftEntry(i, 3, bytes("secret-payload-" + i)))
                    .toList());
            st.persistSnapshotChunk(new RaftSnapshotChunk(20, 3, 0, 2, new byte[1000]));
            st.persistSnapshotChunk(new RaftSnapshotChunk(20, 3, 1, 2, new byte[500]));
            st.truncateUntil(20);
            st.persistSnapshotChunk(new RaftSnapshotChunk(30, 3, 0, 3, new byte[100]));
            // what a crash in a truncation can leave: an entry beyond the live log
            b.inTransaction(
                tx -> {
                  tx.keyValue("raft.orders.log").put(logKey(45), bytes("stale"));
                  return null;
                });
          });

      JarRunner text =
          cairn("raft", "inspect", "orders", "--config", f.toString(), "--entries", "3");
      assertThat(text.exitCode()).as(text.all()).isZero();
      assertThat(text.out())
          .as(type)
          .contains("Raft group orders  backend=main (" + type + ", durability=full)")
          .contains("endpoint    'n1'")
          .contains("membership  'n1,n2,n3'")
          .contains("term        3")
          .contains("voted for   'n2'")
          .contains("first 21, last 40: 20 entries")
          .contains("compacted until 20")
          .contains("stale       1 entries outside the live log")
          .containsPattern("\\s38\\s+3\\s+17\\s")
          .containsPattern("\\s40\\s+3\\s+17\\s")
          .doesNotContainPattern("\\s37\\s+3\\s")
          .containsPattern("\\s20\\s+3\\s+2/2\\s+1.5 KiB\\s+visible")
          .containsPattern("\\s30\\s+3\\s+1/3\\s+100 B\\s+incomplete")
          .contains("problems    none")
          .doesNotContain("secret-payload");

      JarRunner js = cairn("raft", "inspect", "orders", "--config", f.toString(), "--json");
      assertThat(js.exitCode()).as(js.all()).isZero();
      assertThat(js.out()).doesNotContain("secret-payload");
      Config j = json(js.out());
      assertThat(j.getString("group")).isEqualTo("orders");
      assertThat(j.getLong("term")).isEqualTo(3);
      assertThat(j.getInt("votedFor.bytes")).isEqualTo(2);
      assertThat(j.getLong("log.firstIndex")).isEqualTo(21);
      assertThat(j.getLong("log.lastIndex")).isEqualTo(40);
      assertThat(j.getLong("log.entries")).isEqualTo(20);
      assertThat(j.getLong("log.staleEntries")).isEqualTo(1);
      assertThat(j.getConfigList("log.lastEntries")).hasSize(10);
      assertThat(j.getConfigList("snapshots"))
          .extracting(
              s -> s.getLong("index") + ":" + s.getLong("dataBytes") + ":" + s.getString("state"))
          .containsExactly("20:1500:visible", "30:100:incomplete");
      assertThat(j.getList("problems")).isEmpty();

      // Read-only: the stale entry a normal open would delete is still there. Then damage the log.
      withBackend(
          backends,
          b -> {
            assertThat(b.keyValue("raft.orders.log").get(logKey(45))).as(type).isNotNull();
            b.inTransaction(
                tx -> {
                  tx.keyValue("raft.orders.log").delete(logKey(25));
                  return null;
                });
          });
      JarRunner damaged = cairn("raft", "inspect", "orders", "--config", f.toString());
      assertThat(damaged.exitCode()).as(damaged.all()).isEqualTo(CairnCommand.PROBLEMS);
      assertThat(damaged.out())
          .contains("PROBLEMS    1")
          .contains("raft.orders.log lacks log entry 25 inside the live log (20, 40]");
      assertNoTrace(damaged);
    }
  }

  @Test
  void anUnknownGroupOrABackendWithoutDataIsAUsageErrorAndCreatesNothing() throws IOException {
    Path data = dir.resolve("data");
    String backends =
        "cairn.backends.main { type = sqlite, durability = normal, data-dir = \"" + data + "\" }\n";
    Path f = conf("app.conf", backends);
    Path missing = dir.resolve("never");
    Path empty =
        conf(
            "empty.conf",
            "cairn.backends.main { type = sqlite, data-dir = \"" + missing + "\" }\n");
    JarRunner noData = cairn("raft", "inspect", "orders", "-c", empty.toString());
    assertThat(noData.exitCode()).as(noData.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(noData.err()).contains("has no data at " + missing).contains("does not create");
    assertThat(missing).doesNotExist();
    assertNoTrace(noData);

    withBackend(backends, b -> RaftStorage.open(b, "orders").persistTerm(1, null));
    JarRunner unknown = cairn("raft", "inspect", "ordres", "-c", f.toString());
    assertThat(unknown.exitCode()).as(unknown.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(unknown.err())
        .contains("no Raft group 'ordres' is stored on backend 'main'")
        .contains("groups stored there: [orders]");
    assertNoTrace(unknown);
    withBackend(backends, b -> assertThat(RaftStorage.storedGroups(b)).containsExactly("orders"));

    JarRunner badBackend = cairn("raft", "inspect", "orders", "-c", f.toString(), "--backend", "x");
    assertThat(badBackend.exitCode()).as(badBackend.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(badBackend.err()).contains("no backend 'x'").contains("[main]");
    assertNoTrace(badBackend);
  }

  @Test
  void theDeprecatedSectionNameStillChoosesTheGroupsBackend() throws IOException {
    Path data = dir.resolve("raftdata");
    String second =
        "cairn.backends.main { type = rocksdb, durability = normal, data-dir = \""
            + data
            + "\" }\n";
    withBackend(second, b -> RaftStorage.open(b, "orders").persistTerm(9, bytes("n3")));
    String others =
        "cairn.default-backend = other\n"
            + "cairn.backends.other { type = memory, durability = none }\n"
            + second;
    Path f = conf("old.conf", others + "cairn.raft.orders { backend = main }\n");
    JarRunner r = cairn("raft", "inspect", "orders", "-c", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.out()).contains("backend=main (rocksdb").contains("term        9");
    // without the section the group is on the default backend, where nothing is stored
    JarRunner unlisted =
        cairn("raft", "inspect", "orders", "-c", conf("new.conf", others).toString());
    assertThat(unlisted.exitCode()).as(unlisted.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(unlisted.err()).contains("no Raft group 'orders' is stored on backend 'other'");
    JarRunner verify = cairn("verify", "-c", f.toString());
    assertThat(verify.err())
        .contains("cairn.raft (" + f + ":4) is deprecated: rename it to cairn.raft-groups");
  }

  @Test
  void helpIsListedAndFitsTheTerminal() {
    JarRunner top = cairn("--help");
    assertThat(top.exitCode()).as(top.all()).isZero();
    assertThat(top.out()).containsPattern("\\n\\s+raft\\s+Raft group storage");
    for (List<String> command :
        List.of(List.of("raft", "--help"), List.of("raft", "inspect", "--help"))) {
      JarRunner r = cairn(command.toArray(String[]::new));
      assertThat(r.exitCode()).as(r.all()).isZero();
      for (String line : r.out().split("\n")) {
        assertThat(line.length()).as(line).isLessThanOrEqualTo(80);
      }
    }
    assertThat(cairn("raft", "inspect", "--help").out())
        .contains("--json")
        .contains("--entries")
        .contains("--backend")
        .contains("GROUP");
  }
}
