package io.cairn.admin;

import com.codahale.metrics.MetricRegistry;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * {@code GET /metrics}: the registry's Dropwizard metrics in the Prometheus text format (version
 * 0.0.4), converted by the Prometheus Java client's Dropwizard bridge: dots become underscores,
 * timers become summaries in seconds, meters and counters become counters.
 */
final class MetricsHandler implements HttpHandler {
  private final PrometheusRegistry prometheus = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  MetricsHandler(MetricRegistry metrics) {
    DropwizardExports.builder().dropwizardRegistry(metrics).register(prometheus);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!Responses.method(exchange, "GET")) {
      return;
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
    writer.write(body, prometheus.scrape());
    Responses.send(exchange, 200, writer.getContentType(), body.toByteArray());
  }
}
