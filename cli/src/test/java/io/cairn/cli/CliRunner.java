package io.cairn.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the command in-process and captures its output, for tests. */
record CliRunner(int exitCode, String out, String err) {
  static CliRunner run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CairnCommand.run(args, new PrintWriter(out), new PrintWriter(err));
    return new CliRunner(code, out.toString(), err.toString());
  }
}
