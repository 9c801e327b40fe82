package io.cairn.tck.crash;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;

/**
 * A child-JVM main for multi-process tests (e.g. directory locking): opens a {@link
 * PersistenceRegistry} from the HOCON file given as the only argument and prints one line:
 *
 * <ul>
 *   <li>{@code OPENED <pid>}, then holds the backends open until its standard input closes or
 *       receives a line, then closes them and prints {@code CLOSED};
 *   <li>or {@code FAILED <exception class> <message on one line>} and exits with code 2.
 * </ul>
 *
 * Start it with {@link ChildJvm#start(Class, String...)}.
 */
public final class BackendHolder {
  private BackendHolder() {}

  /** Opens the registry from {@code args[0]} and holds it; output as described on the class. */
  public static void main(String[] args) throws Exception {
    PersistenceRegistry registry;
    try {
      registry = PersistenceRegistry.open(ConfigFactory.parseFile(Path.of(args[0]).toFile()));
    } catch (RuntimeException e) {
      System.out.println(
          "FAILED "
              + e.getClass().getName()
              + " "
              + String.valueOf(e.getMessage()).replace('\n', ' '));
      System.out.flush();
      System.exit(2);
      return;
    }
    System.out.println("OPENED " + ProcessHandle.current().pid());
    System.out.flush();
    try (registry) {
      System.in.read();
    }
    System.out.println("CLOSED");
  }
}
