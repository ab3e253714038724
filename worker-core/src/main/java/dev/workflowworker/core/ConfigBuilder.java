package dev.workflowworker.core;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings shared by {@link WorkerConfig.Builder} and {@link WorkerService.Builder}. Each
 * setter validates its argument at once and names the setting in the exception; combinations of
 * settings are checked when the config is built.
 *
 * @param <B> the concrete builder type, returned by every setter for chaining
 */
public abstract class ConfigBuilder<B extends ConfigBuilder<B>> {

    int workerCount = WorkerConfig.DEFAULT_WORKER_COUNT;
    Duration pollInterval = WorkerConfig.DEFAULT_POLL_INTERVAL;
    int batchSize = WorkerConfig.DEFAULT_BATCH_SIZE;
    int maxRetries = WorkerConfig.DEFAULT_MAX_RETRIES;
    int concurrencyLimit = WorkerConfig.DEFAULT_CONCURRENCY_LIMIT;
    Duration healthCheckInterval = WorkerConfig.DEFAULT_HEALTH_CHECK_INTERVAL;
    Duration metricsReportingInterval = WorkerConfig.DEFAULT_METRICS_REPORTING_INTERVAL;
    Duration lockTtl = WorkerConfig.DEFAULT_LOCK_TTL;
    Duration claimIdle = WorkerConfig.DEFAULT_CLAIM_IDLE;
    Duration shutdownTimeout = WorkerConfig.DEFAULT_SHUTDOWN_TIMEOUT;
    Duration initialBackoff = WorkerConfig.DEFAULT_INITIAL_BACKOFF;
    Duration maxBackoff = WorkerConfig.DEFAULT_MAX_BACKOFF;
    Duration transientBackoff = WorkerConfig.DEFAULT_TRANSIENT_BACKOFF;
    Duration lockContentionDelay = WorkerConfig.DEFAULT_LOCK_CONTENTION_DELAY;
    Duration eventTimeout = WorkerConfig.DEFAULT_EVENT_TIMEOUT;
    Duration heartbeatTimeout;
    double degradedFailureRatio = WorkerConfig.DEFAULT_DEGRADED_FAILURE_RATIO;

    ConfigBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * Copies every setting of {@code config} into this builder, replacing any set before; call it
     * first and override single settings after it, e.g.
     * {@code builder().config(WorkerConfig.fromEnvironment()).workerCount(2)}.
     *
     * @param config the settings to start from
     * @return this builder
     */
    public B config(WorkerConfig config) {
        Objects.requireNonNull(config, "config");
        workerCount = config.workerCount();
        pollInterval = config.pollInterval();
        batchSize = config.batchSize();
        maxRetries = config.maxRetries();
        concurrencyLimit = config.concurrencyLimit();
        healthCheckInterval = config.healthCheckInterval();
        metricsReportingInterval = config.metricsReportingInterval();
        lockTtl = config.lockTtl();
        claimIdle = config.claimIdle();
        shutdownTimeout = config.shutdownTimeout();
        initialBackoff = config.initialBackoff();
        maxBackoff = config.maxBackoff();
        transientBackoff = config.transientBackoff();
        lockContentionDelay = config.lockContentionDelay();
        eventTimeout = config.eventTimeout();
        heartbeatTimeout = config.heartbeatTimeout();
        degradedFailureRatio = config.degradedFailureRatio();
        return self();
    }

    /** @param v workers per service ({@code WORKER_COUNT}), at least 1 @return this builder */
    public B workerCount(int v) {
        workerCount = positive("workerCount", v);
        return self();
    }

    /** @param v the longest a blocking read waits ({@code POLL_INTERVAL_MS}), positive @return this builder */
    public B pollInterval(Duration v) {
        pollInterval = positive("pollInterval", v);
        return self();
    }

    /** @param v entries read per poll ({@code BATCH_SIZE}), at least 1 @return this builder */
    public B batchSize(int v) {
        batchSize = positive("batchSize", v);
        return self();
    }

    /** @param v retries of one event before it is dead-lettered ({@code MAX_RETRIES}), at least 0 @return this builder */
    public B maxRetries(int v) {
        if (v < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, got " + v);
        }
        maxRetries = v;
        return self();
    }

    /** @param v events processed at once per worker ({@code CONCURRENCY_LIMIT}), at least 1 @return this builder */
    public B concurrencyLimit(int v) {
        concurrencyLimit = positive("concurrencyLimit", v);
        return self();
    }

    /** @param v how often unhealthy workers are replaced ({@code HEALTH_CHECK_INTERVAL_MS}) @return this builder */
    public B healthCheckInterval(Duration v) {
        healthCheckInterval = positive("healthCheckInterval", v);
        return self();
    }

    /** @param v how often a metrics line is logged ({@code METRICS_REPORTING_INTERVAL_MS}) @return this builder */
    public B metricsReportingInterval(Duration v) {
        metricsReportingInterval = positive("metricsReportingInterval", v);
        return self();
    }

    /** @param v lease of an event's lock, renewed every third of it ({@code LOCK_TTL_MS}) @return this builder */
    public B lockTtl(Duration v) {
        lockTtl = atLeast("lockTtl", v, Duration.ofMillis(30));
        return self();
    }

    /** @param v idle time after which a dead consumer's work is reclaimed ({@code CLAIM_IDLE_MS}) @return this builder */
    public B claimIdle(Duration v) {
        claimIdle = atLeast("claimIdle", v, Duration.ofMillis(30));
        return self();
    }

    /** @param v how long shutdown waits for in-flight events ({@code SHUTDOWN_TIMEOUT_MS}) @return this builder */
    public B shutdownTimeout(Duration v) {
        shutdownTimeout = nonNegative("shutdownTimeout", v);
        return self();
    }

    /** @param v first delay of a recoverable retry ({@code RETRY_INITIAL_DELAY_MS}) @return this builder */
    public B initialBackoff(Duration v) {
        initialBackoff = nonNegative("initialBackoff", v);
        return self();
    }

    /** @param v cap of the recoverable retry delay before jitter ({@code RETRY_MAX_DELAY_MS}) @return this builder */
    public B maxBackoff(Duration v) {
        maxBackoff = nonNegative("maxBackoff", v);
        return self();
    }

    /** @param v first pause before an in-place transient retry; doubles per retry, capped by initialBackoff @return this builder */
    public B transientBackoff(Duration v) {
        transientBackoff = nonNegative("transientBackoff", v);
        return self();
    }

    /** @param v delay before an event whose lock was busy is redelivered @return this builder */
    public B lockContentionDelay(Duration v) {
        lockContentionDelay = nonNegative("lockContentionDelay", v);
        return self();
    }

    /** @param v time a handler has before its context reports a passed deadline @return this builder */
    public B eventTimeout(Duration v) {
        eventTimeout = positive("eventTimeout", v);
        return self();
    }

    /** @param v how stale a worker's loop heartbeat may get before it is unhealthy; defaults to 3 poll intervals + 5 s @return this builder */
    public B heartbeatTimeout(Duration v) {
        heartbeatTimeout = positive("heartbeatTimeout", v);
        return self();
    }

    /** @param v failure ratio over the last health window above which a worker is degraded, in (0, 1] @return this builder */
    public B degradedFailureRatio(double v) {
        if (!(v > 0 && v <= 1)) {
            throw new IllegalArgumentException("degradedFailureRatio must be in (0, 1], got " + v);
        }
        degradedFailureRatio = v;
        return self();
    }

    /**
     * Builds the config after checking combinations of settings.
     *
     * @return the config
     * @throws IllegalStateException if settings contradict each other
     */
    WorkerConfig buildConfig() {
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalStateException("maxBackoff (" + maxBackoff + ") must be >= initialBackoff ("
                    + initialBackoff + ")");
        }
        Duration heartbeat = heartbeatTimeout != null ? heartbeatTimeout
                : pollInterval.multipliedBy(3).plusSeconds(5);
        if (heartbeat.compareTo(pollInterval) <= 0) {
            throw new IllegalStateException("heartbeatTimeout (" + heartbeat + ") must be longer than pollInterval ("
                    + pollInterval + ")");
        }
        return new WorkerConfig(this, heartbeat);
    }

    private static int positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
        return v;
    }

    private static Duration positive(String name, Duration v) {
        Objects.requireNonNull(v, name);
        if (v.isNegative() || v.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
        return v;
    }

    private static Duration nonNegative(String name, Duration v) {
        Objects.requireNonNull(v, name);
        if (v.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + v);
        }
        return v;
    }

    private static Duration atLeast(String name, Duration v, Duration min) {
        Objects.requireNonNull(v, name);
        if (v.compareTo(min) < 0) {
            throw new IllegalArgumentException(name + " must be at least " + min.toMillis() + " ms, got " + v);
        }
        return v;
    }
}
