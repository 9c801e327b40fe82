package io.cairn.admin;

import com.sun.net.httpserver.HttpHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * Who may call what. A state-changing endpoint needs the bearer token; when the endpoint is
 * reachable beyond loopback, every endpoint does. Tokens are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, so the time taken reveals neither content nor length.
 */
final class Access {
  private final Optional<byte[]> tokenDigest;
  private final boolean everyRequestNeedsToken;

  Access(Optional<String> token, boolean everyRequestNeedsToken) {
    this.tokenDigest = token.map(Access::digest);
    this.everyRequestNeedsToken = everyRequestNeedsToken;
  }

  HttpHandler guard(boolean changesState, HttpHandler handler) {
    return exchange -> {
      try (exchange) {
        if (changesState || everyRequestNeedsToken) {
          if (tokenDigest.isEmpty()) {
            Responses.error(
                exchange,
                403,
                "this endpoint changes state and needs a token: set cairn.admin.token-file or"
                    + " cairn.admin.token-env");
            return;
          }
          if (!presented(exchange.getRequestHeaders().getFirst("Authorization"))) {
            exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"cairn\"");
            Responses.error(exchange, 401, "missing or wrong bearer token");
            return;
          }
        }
        handler.handle(exchange);
      } catch (RuntimeException e) {
        Responses.failed(exchange, e);
      }
    };
  }

  private boolean presented(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(digest(header.substring(7).strip()), tokenDigest.orElseThrow());
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
