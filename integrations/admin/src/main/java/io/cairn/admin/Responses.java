package io.cairn.admin;

import com.sun.net.httpserver.HttpExchange;
import io.cairn.persistence.spi.JsonWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writing responses: JSON bodies, errors as {@code {"error": "..."}}, method checks. */
final class Responses {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  private Responses() {}

  static void json(HttpExchange exchange, int status, String json) throws IOException {
    send(
        exchange, status, "application/json; charset=utf-8", json.getBytes(StandardCharsets.UTF_8));
  }

  /** A JSON body {@code document} writes on one line (the spi's {@link JsonWriter}). */
  static void json(HttpExchange exchange, int status, Consumer<JsonWriter> document)
      throws IOException {
    StringBuilder body = new StringBuilder();
    document.accept(JsonWriter.oneLine(body));
    json(exchange, status, body.toString());
  }

  static void send(HttpExchange exchange, int status, String contentType, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  static void error(HttpExchange exchange, int status, String message) throws IOException {
    json(exchange, status, w -> w.beginObject().name("error").value(message).endObject());
  }

  /** True when the method is {@code expected}; otherwise answers 405 and returns false. */
  static boolean method(HttpExchange exchange, String expected) throws IOException {
    if (exchange.getRequestMethod().equalsIgnoreCase(expected)) {
      return true;
    }
    exchange.getResponseHeaders().set("Allow", expected);
    error(exchange, 405, exchange.getRequestURI().getPath() + " accepts " + expected + " only");
    return false;
  }

  /**
   * A handler failed: logged with its stack and answered with 500 naming the exception. Cairn's
   * exception messages never carry keys or values, so the message may be shown.
   */
  static void failed(HttpExchange exchange, RuntimeException e) {
    LOG.warn("Cairn admin request {} failed", exchange.getRequestURI().getPath(), e);
    try {
      error(exchange, 500, e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (IOException | RuntimeException alreadyAnswered) {
      // The response had started or the client left: nothing more can be said to it.
      LOG.debug("Could not send the error response", alreadyAnswered);
    }
  }
}
