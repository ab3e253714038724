package dev.workflowworker.core.internal;

import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;

import java.util.function.Supplier;

/**
 * The metrics line a service logs every {@code metricsReportingInterval}: its counters, the rate
 * since the line before and the latency percentiles of that interval. Called from one scheduler
 * thread at a time.
 */
public final class MetricsLog {

    private final Logger log;
    private final WorkerStats totals;
    private final LatencyRecorder latency;
    private final TimeSource time;
    private final Supplier<HealthSnapshot> health;
    private long lastNanos;
    private long lastProcessed;

    /**
     * @param log     where the line goes; the service's own logger, which hosts filter by
     * @param totals  the service-wide counters
     * @param latency the processing-time histogram, reset at each line
     * @param time    the time source
     * @param health  the service's health now
     */
    public MetricsLog(Logger log, WorkerStats totals, LatencyRecorder latency, TimeSource time,
                      Supplier<HealthSnapshot> health) {
        this.log = log;
        this.totals = totals;
        this.latency = latency;
        this.time = time;
        this.health = health;
        this.lastNanos = time.nanoTime();
    }

    /** Logs one line. */
    public void report() {
        long nowNanos = time.nanoTime();
        long processed = totals.processed();
        double seconds = Math.max(1e-9, (nowNanos - lastNanos) / 1e9);
        double rate = (processed - lastProcessed) / seconds;
        lastNanos = nowNanos;
        lastProcessed = processed;
        LatencyRecorder.Snapshot p = latency.snapshotAndReset();
        HealthSnapshot h = health.get();
        log.info("metrics: status={} workers={}/{} processed={} succeeded={} failed={} retried={} "
                        + "deadLettered={} duplicates={} lockContended={} leaseLost={} active={} rate={}/s "
                        + "p50={}ms p99={}ms max={}ms",
                h.status().jsonValue(), h.healthyWorkers(), h.workerCount(), processed, totals.succeededCount(),
                totals.failedCount(), totals.retriedCount(), totals.deadLetteredCount(), totals.duplicateCount(),
                totals.contendedCount(), totals.leaseLostCount(), totals.active(), String.format("%.1f", rate),
                millis(p.p50()), millis(p.p99()), millis(p.max()));
    }

    private static String millis(long nanos) {
        return String.format("%.3f", nanos / 1e6);
    }
}
