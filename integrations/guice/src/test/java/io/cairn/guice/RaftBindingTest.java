package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftGroups;
import io.cairn.raft.RaftStorage;
import io.cairn.runtime.Cairn;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: each configured Raft group is bound as {@code @Named(group) RaftStorage}, like queues
 * and caches: the one storage of that group, on the backend its settings name, restored after a
 * restart.
 */
class RaftBindingTest {
  @TempDir Path dir;

  static final class Node {
    @Inject
    @Named("orders")
    RaftStorage orders;

    @Inject
    @com.google.inject.name.Named("payments")
    RaftStorage payments;

    @Inject Cairn cairn;
  }

  private Config config() {
    return ConfigFactory.parseString(
        "cairn.backends.a { type = sqlite, data-dir = \""
            + dir.resolve("a")
            + "\" }\n"
            + "cairn.backends.b { type = rocksdb, data-dir = \""
            + dir.resolve("b")
            + "\" }\n"
            + RaftGroups.PATH
            + ".orders { backend = a }\n"
            + RaftGroups.PATH
            + ".payments { backend = b }\n");
  }

  private Node node() {
    Injector injector = Guice.createInjector(Stage.PRODUCTION, new CairnModule(config()));
    return injector.getInstance(Node.class);
  }

  @Test
  void eachGroupIsBoundByNameAndRestoredAfterARestart() {
    Node n = node();
    try {
      assertThat(n.orders).isSameAs(n.cairn.raftStorage("orders"));
      assertThat(n.payments).isSameAs(n.cairn.raftStorage("payments")).isNotSameAs(n.orders);
      assertThat(n.orders.group()).isEqualTo("orders");
      n.orders.persistTerm(5, new byte[] {1});
      n.orders.append(List.of(new RaftEntry(1, 5, new byte[] {9})));
      n.payments.persistTerm(2, null);
    } finally {
      n.cairn.close();
    }
    Node again = node();
    try {
      assertThat(again.orders.restore().term()).isEqualTo(5);
      assertThat(again.orders.restore().lastIndex()).isEqualTo(1);
      assertThat(again.payments.restore().term()).isEqualTo(2);
    } finally {
      again.cairn.close();
    }
  }
}
