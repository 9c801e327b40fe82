package io.cairn.cli;

import java.io.PrintWriter;

/**
 * The commands' JSON output: the persistence SPI's streaming {@link
 * io.cairn.persistence.spi.JsonWriter} (shared with the admin endpoint) under the name the commands
 * use. Values go to the output as they are written, so memory does not grow with the document (an
 * {@code inspect --json} of 200,000 stores renders in constant space beyond the stats themselves).
 * Output is indented two spaces per level with {@code "key" : value}, as the earlier
 * Typesafe-rendered output was; or, made with {@link #oneLine}, a whole document on one line (JSON
 * lines: {@code cairn log}). Not thread-safe.
 */
final class JsonWriter {
  private final io.cairn.persistence.spi.JsonWriter w;

  JsonWriter(PrintWriter out) {
    this(io.cairn.persistence.spi.JsonWriter.indented(out));
  }

  private JsonWriter(io.cairn.persistence.spi.JsonWriter w) {
    this.w = w;
  }

  /** A writer that puts each document on one line ({@code "key":value}, no indentation). */
  static JsonWriter oneLine(PrintWriter out) {
    return new JsonWriter(io.cairn.persistence.spi.JsonWriter.oneLine(out));
  }

  /** The SPI writer underneath, for shared documents ({@code BackendStatsJson}). */
  io.cairn.persistence.spi.JsonWriter spi() {
    return w;
  }

  JsonWriter beginObject() {
    w.beginObject();
    return this;
  }

  JsonWriter endObject() {
    w.endObject();
    return this;
  }

  JsonWriter beginArray() {
    w.beginArray();
    return this;
  }

  JsonWriter endArray() {
    w.endArray();
    return this;
  }

  JsonWriter name(String name) {
    w.name(name);
    return this;
  }

  JsonWriter value(String s) {
    w.value(s);
    return this;
  }

  JsonWriter value(long n) {
    w.value(n);
    return this;
  }

  JsonWriter value(boolean b) {
    w.value(b);
    return this;
  }

  /** Ends the document with a newline and flushes. */
  void finish() {
    w.finish();
  }
}
