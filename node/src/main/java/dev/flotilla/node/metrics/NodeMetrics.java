package dev.flotilla.node.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.DoubleSupplier;

/** The node's Prometheus metrics: commits, apply latency, leader changes, API requests by route and code. */
public final class NodeMetrics {
    private static final double[] LATENCY_BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter commits;
    private final Counter rejected;
    private final Histogram applySeconds;
    private final Counter leaderChanges;
    private final Counter requests;
    private final Histogram requestSeconds;

    public NodeMetrics() {
        commits = Counter.builder().name("flotilla_commits_total")
                .help("Log entries applied to this node's registry, by command kind")
                .labelNames("command").register(registry);
        rejected = Counter.builder().name("flotilla_commands_rejected_total")
                .help("Applied commands whose result was a rejection, by error code")
                .labelNames("code").register(registry);
        applySeconds = Histogram.builder().name("flotilla_apply_seconds")
                .help("Time to apply one log entry to the store").classicOnly()
                .classicUpperBounds(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)
                .register(registry);
        leaderChanges = Counter.builder().name("flotilla_leader_changes_total")
                .help("Leader changes this node has seen").register(registry);
        requests = Counter.builder().name("flotilla_http_requests_total")
                .help("HTTP API requests by route and status code").labelNames("route", "code").register(registry);
        requestSeconds = Histogram.builder().name("flotilla_http_request_seconds")
                .help("HTTP API latency by route").classicOnly().classicUpperBounds(LATENCY_BOUNDS)
                .labelNames("route").register(registry);
    }

    public void applied(String command, long nanos) {
        commits.labelValues(command).inc();
        applySeconds.observe(nanos / 1e9);
    }

    public void rejected(String code) {
        rejected.labelValues(code).inc();
    }

    public void leaderChanged() {
        leaderChanges.inc();
    }

    public void request(String route, int status, long nanos) {
        requests.labelValues(route, Integer.toString(status)).inc();
        requestSeconds.labelValues(route).observe(nanos / 1e9);
    }

    /** Registers a gauge read at scrape time, for figures that live elsewhere (Raft indexes, runtime counters). */
    public void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /** Registers a counter read at scrape time; {@code name} without "_total", which the exposition adds. */
    public void counter(String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
