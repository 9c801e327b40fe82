package io.cairn.encryption;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Child JVM of {@link MessageBudgetTest}'s crash test: opens the backend, puts {@code n} values
 * (each one message under the primary key), prints {@code WROTE n} and waits to be killed.
 * Arguments: base dir, keyset file, n.
 */
public final class BudgetChild {
  private BudgetChild() {}

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[2]);
    PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(Path.of(args[0]))
            .open(MessageBudgetTest.config("data", Path.of(args[1]), 0));
    KeyValueStore kv = r.backend("main").keyValue("users");
    for (int i = 0; i < n; i++) {
      kv.put(("child" + i).getBytes(StandardCharsets.UTF_8), new byte[100]);
    }
    System.out.println("WROTE " + n);
    Thread.sleep(600_000); // killed here, never closed
  }
}
