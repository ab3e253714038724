package dev.workflowworker.core;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Immutable settings of the engine of a {@link WorkerService}: workers, polling, retries, locks,
 * health and shutdown. Build one with {@link #builder()} or read the environment with
 * {@link #fromEnvironment()}.
 *
 * <p>Where events come from (stream, consumer group, Redis URL) is not here: each transport owns
 * those settings (for Redis, {@code RedisOptions.fromEnvironment()} reads {@code REDIS_URL},
 * {@code WORKER_STREAM} and {@code WORKER_GROUP}), so a name can never be set in one place and
 * read from another.
 */
public final class WorkerConfig {

    /** Default {@code WORKER_COUNT}: the number of CPU cores. */
    public static final int DEFAULT_WORKER_COUNT = Runtime.getRuntime().availableProcessors();
    /** Default {@code POLL_INTERVAL_MS}. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(1000);
    /** Default {@code BATCH_SIZE}. */
    public static final int DEFAULT_BATCH_SIZE = 10;
    /** Default {@code MAX_RETRIES}. */
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Default {@code CONCURRENCY_LIMIT}. */
    public static final int DEFAULT_CONCURRENCY_LIMIT = 5;
    /** Default {@code HEALTH_CHECK_INTERVAL_MS}. */
    public static final Duration DEFAULT_HEALTH_CHECK_INTERVAL = Duration.ofMillis(30_000);
    /** Default {@code METRICS_REPORTING_INTERVAL_MS}. */
    public static final Duration DEFAULT_METRICS_REPORTING_INTERVAL = Duration.ofMillis(60_000);
    /** Default {@code LOCK_TTL_MS}. */
    public static final Duration DEFAULT_LOCK_TTL = Duration.ofSeconds(30);
    /** Default {@code CLAIM_IDLE_MS}. */
    public static final Duration DEFAULT_CLAIM_IDLE = Duration.ofSeconds(30);
    /** Default {@code SHUTDOWN_TIMEOUT_MS}. */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    /** Default {@code RETRY_INITIAL_DELAY_MS}. */
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(1);
    /** Default {@code RETRY_MAX_DELAY_MS}. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    /** Default first pause of an in-place transient retry. */
    public static final Duration DEFAULT_TRANSIENT_BACKOFF = Duration.ofMillis(50);
    /** Default delay before an event whose lock was busy is redelivered. */
    public static final Duration DEFAULT_LOCK_CONTENTION_DELAY = Duration.ofMillis(50);
    /** Default time a handler has before its deadline. */
    public static final Duration DEFAULT_EVENT_TIMEOUT = Duration.ofMinutes(10);
    /** Default failure ratio above which a worker is degraded. */
    public static final double DEFAULT_DEGRADED_FAILURE_RATIO = 0.5;

    private final int workerCount;
    private final Duration pollInterval;
    private final int batchSize;
    private final int maxRetries;
    private final int concurrencyLimit;
    private final Duration healthCheckInterval;
    private final Duration metricsReportingInterval;
    private final Duration lockTtl;
    private final Duration claimIdle;
    private final Duration shutdownTimeout;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration transientBackoff;
    private final Duration lockContentionDelay;
    private final Duration eventTimeout;
    private final Duration heartbeatTimeout;
    private final double degradedFailureRatio;

    WorkerConfig(ConfigBuilder<?> b, Duration heartbeatTimeout) {
        workerCount = b.workerCount;
        pollInterval = b.pollInterval;
        batchSize = b.batchSize;
        maxRetries = b.maxRetries;
        concurrencyLimit = b.concurrencyLimit;
        healthCheckInterval = b.healthCheckInterval;
        metricsReportingInterval = b.metricsReportingInterval;
        lockTtl = b.lockTtl;
        claimIdle = b.claimIdle;
        shutdownTimeout = b.shutdownTimeout;
        initialBackoff = b.initialBackoff;
        maxBackoff = b.maxBackoff;
        transientBackoff = b.transientBackoff;
        lockContentionDelay = b.lockContentionDelay;
        eventTimeout = b.eventTimeout;
        this.heartbeatTimeout = heartbeatTimeout;
        degradedFailureRatio = b.degradedFailureRatio;
    }

    /** {@return a builder with every default, for settings chosen in code rather than the environment} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding this config's settings, to derive a variant of it} */
    public Builder toBuilder() {
        return new Builder().config(this);
    }

    /** {@return a config with every default} */
    public static WorkerConfig defaults() {
        return builder().build();
    }

    /**
     * Reads the process environment. See {@link #fromEnvironment(Map)}.
     *
     * @return the config
     * @throws IllegalArgumentException if a variable is malformed, naming the variable and value
     */
    public static WorkerConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Reads the engine's variables: those of the Alga PSA Workflow Worker Service ({@code WORKER_COUNT},
     * {@code POLL_INTERVAL_MS}, {@code BATCH_SIZE}, {@code MAX_RETRIES}, {@code CONCURRENCY_LIMIT},
     * {@code HEALTH_CHECK_INTERVAL_MS}, {@code METRICS_REPORTING_INTERVAL_MS}) and ours
     * ({@code LOCK_TTL_MS}, {@code CLAIM_IDLE_MS}, {@code SHUTDOWN_TIMEOUT_MS},
     * {@code RETRY_INITIAL_DELAY_MS}, {@code RETRY_MAX_DELAY_MS}). Unset or empty variables keep
     * their defaults. The transport's variables ({@code REDIS_URL}, {@code WORKER_STREAM},
     * {@code WORKER_GROUP}) are read by the transport's options, not here.
     *
     * @param env the variables
     * @return the config
     * @throws IllegalArgumentException if a variable is malformed, naming the variable and value
     */
    public static WorkerConfig fromEnvironment(Map<String, String> env) {
        Builder b = builder();
        intVar(env, "WORKER_COUNT", b::workerCount);
        msVar(env, "POLL_INTERVAL_MS", b::pollInterval);
        intVar(env, "BATCH_SIZE", b::batchSize);
        intVar(env, "MAX_RETRIES", b::maxRetries);
        intVar(env, "CONCURRENCY_LIMIT", b::concurrencyLimit);
        msVar(env, "HEALTH_CHECK_INTERVAL_MS", b::healthCheckInterval);
        msVar(env, "METRICS_REPORTING_INTERVAL_MS", b::metricsReportingInterval);
        msVar(env, "LOCK_TTL_MS", b::lockTtl);
        msVar(env, "CLAIM_IDLE_MS", b::claimIdle);
        msVar(env, "SHUTDOWN_TIMEOUT_MS", b::shutdownTimeout);
        msVar(env, "RETRY_INITIAL_DELAY_MS", b::initialBackoff);
        msVar(env, "RETRY_MAX_DELAY_MS", b::maxBackoff);
        try {
            return b.build();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("inconsistent environment: " + e.getMessage(), e);
        }
    }

    private static void intVar(Map<String, String> env, String name, Consumer<Integer> setter) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) {
            return;
        }
        int value;
        try {
            value = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + raw + " is invalid: expected an integer");
        }
        apply(name, raw, () -> setter.accept(value));
    }

    private static void msVar(Map<String, String> env, String name, Consumer<Duration> setter) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) {
            return;
        }
        long value;
        try {
            value = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + raw + " is invalid: expected a whole number of milliseconds");
        }
        apply(name, raw, () -> setter.accept(Duration.ofMillis(value)));
    }

    private static void apply(String name, String raw, Runnable set) {
        try {
            set.run();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + "=" + raw + " is invalid: " + e.getMessage(), e);
        }
    }

    /** {@return workers per service ({@code WORKER_COUNT})} */
    public int workerCount() { return workerCount; }

    /** {@return the longest a blocking read waits ({@code POLL_INTERVAL_MS})} */
    public Duration pollInterval() { return pollInterval; }

    /** {@return entries read per poll ({@code BATCH_SIZE})} */
    public int batchSize() { return batchSize; }

    /** {@return retries of one event before it is dead-lettered ({@code MAX_RETRIES})} */
    public int maxRetries() { return maxRetries; }

    /** {@return events processed at once per worker ({@code CONCURRENCY_LIMIT})} */
    public int concurrencyLimit() { return concurrencyLimit; }

    /** {@return how often unhealthy workers are replaced ({@code HEALTH_CHECK_INTERVAL_MS})} */
    public Duration healthCheckInterval() { return healthCheckInterval; }

    /** {@return how often a metrics line is logged ({@code METRICS_REPORTING_INTERVAL_MS})} */
    public Duration metricsReportingInterval() { return metricsReportingInterval; }

    /** {@return the lease of an event's lock ({@code LOCK_TTL_MS})} */
    public Duration lockTtl() { return lockTtl; }

    /** {@return the idle time after which a dead consumer's work is reclaimed ({@code CLAIM_IDLE_MS})} */
    public Duration claimIdle() { return claimIdle; }

    /** {@return how long shutdown waits for in-flight events ({@code SHUTDOWN_TIMEOUT_MS})} */
    public Duration shutdownTimeout() { return shutdownTimeout; }

    /** {@return the first delay of a recoverable retry ({@code RETRY_INITIAL_DELAY_MS})} */
    public Duration initialBackoff() { return initialBackoff; }

    /** {@return the cap of the recoverable retry delay before jitter ({@code RETRY_MAX_DELAY_MS})} */
    public Duration maxBackoff() { return maxBackoff; }

    /** {@return the first pause before an in-place transient retry} */
    public Duration transientBackoff() { return transientBackoff; }

    /** {@return the delay before an event whose lock was busy is redelivered} */
    public Duration lockContentionDelay() { return lockContentionDelay; }

    /** {@return the time a handler has before its deadline} */
    public Duration eventTimeout() { return eventTimeout; }

    /** {@return how stale a loop heartbeat may get before its worker is unhealthy} */
    public Duration heartbeatTimeout() { return heartbeatTimeout; }

    /** {@return the failure ratio above which a worker is degraded} */
    public double degradedFailureRatio() { return degradedFailureRatio; }

    @Override
    public String toString() {
        return "WorkerConfig{workerCount=" + workerCount + ", pollInterval=" + pollInterval.toMillis()
                + "ms, batchSize=" + batchSize + ", maxRetries=" + maxRetries + ", concurrencyLimit="
                + concurrencyLimit + ", healthCheckInterval=" + healthCheckInterval.toMillis()
                + "ms, metricsReportingInterval=" + metricsReportingInterval.toMillis() + "ms, lockTtl="
                + lockTtl.toMillis() + "ms, claimIdle=" + claimIdle.toMillis() + "ms, shutdownTimeout="
                + shutdownTimeout.toMillis() + "ms, backoff=" + initialBackoff.toMillis() + ".."
                + maxBackoff.toMillis() + "ms}";
    }

    /** Builds {@link WorkerConfig}s. */
    public static final class Builder extends ConfigBuilder<Builder> {
        Builder() {
        }

        /**
         * Builds the config, checking the settings that constrain each other (the backoff bounds,
         * the heartbeat timeout against the poll interval) only now, so that setters can be called
         * in any order.
         *
         * @return the config
         * @throws IllegalStateException if settings contradict each other
         */
        public WorkerConfig build() {
            return buildConfig();
        }
    }
}
