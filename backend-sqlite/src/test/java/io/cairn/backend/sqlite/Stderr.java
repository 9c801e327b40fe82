package io.cairn.backend.sqlite;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What a test's code logs: the tests' SLF4J provider, slf4j-simple, writes to System.err. */
final class Stderr {
  private Stderr() {}

  /**
   * Runs {@code body} with {@code System.err} captured, as it is at the time of each log line, and
   * returns what was written; the text is also passed on to the real {@code System.err}.
   */
  static String of(Runnable body) {
    PrintStream original = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      body.run();
    } finally {
      System.setErr(original);
    }
    String log = out.toString(StandardCharsets.UTF_8);
    original.print(log);
    return log;
  }
}
