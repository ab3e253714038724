package dev.workflowworker.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

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

    /** The engine's settings, in the order {@link #toString()} shows them. */
    static final Setting.Table SETTINGS = new Setting.Table();
    static final Setting<Integer> WORKER_COUNT =
            SETTINGS.add("workerCount", DEFAULT_WORKER_COUNT, atLeast(1), "WORKER_COUNT", Setting.Parser.INTEGER);
    static final Setting<Duration> POLL_INTERVAL =
            SETTINGS.add("pollInterval", DEFAULT_POLL_INTERVAL, positive(), "POLL_INTERVAL_MS", Setting.Parser.MILLIS);
    static final Setting<Integer> BATCH_SIZE =
            SETTINGS.add("batchSize", DEFAULT_BATCH_SIZE, atLeast(1), "BATCH_SIZE", Setting.Parser.INTEGER);
    static final Setting<Integer> MAX_RETRIES =
            SETTINGS.add("maxRetries", DEFAULT_MAX_RETRIES, atLeast(0), "MAX_RETRIES", Setting.Parser.INTEGER);
    static final Setting<Integer> CONCURRENCY_LIMIT = SETTINGS.add("concurrencyLimit", DEFAULT_CONCURRENCY_LIMIT,
            atLeast(1), "CONCURRENCY_LIMIT", Setting.Parser.INTEGER);
    static final Setting<Duration> HEALTH_CHECK_INTERVAL = SETTINGS.add("healthCheckInterval",
            DEFAULT_HEALTH_CHECK_INTERVAL, positive(), "HEALTH_CHECK_INTERVAL_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> METRICS_REPORTING_INTERVAL = SETTINGS.add("metricsReportingInterval",
            DEFAULT_METRICS_REPORTING_INTERVAL, positive(), "METRICS_REPORTING_INTERVAL_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> LOCK_TTL = SETTINGS.add("lockTtl", DEFAULT_LOCK_TTL,
            atLeast(Duration.ofMillis(30)), "LOCK_TTL_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> CLAIM_IDLE = SETTINGS.add("claimIdle", DEFAULT_CLAIM_IDLE,
            atLeast(Duration.ofMillis(30)), "CLAIM_IDLE_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> SHUTDOWN_TIMEOUT = SETTINGS.add("shutdownTimeout", DEFAULT_SHUTDOWN_TIMEOUT,
            atLeast(Duration.ZERO), "SHUTDOWN_TIMEOUT_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> INITIAL_BACKOFF = SETTINGS.add("initialBackoff", DEFAULT_INITIAL_BACKOFF,
            atLeast(Duration.ZERO), "RETRY_INITIAL_DELAY_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> MAX_BACKOFF = SETTINGS.add("maxBackoff", DEFAULT_MAX_BACKOFF,
            atLeast(Duration.ZERO), "RETRY_MAX_DELAY_MS", Setting.Parser.MILLIS);
    static final Setting<Duration> TRANSIENT_BACKOFF =
            SETTINGS.add("transientBackoff", DEFAULT_TRANSIENT_BACKOFF, atLeast(Duration.ZERO));
    static final Setting<Duration> LOCK_CONTENTION_DELAY =
            SETTINGS.add("lockContentionDelay", DEFAULT_LOCK_CONTENTION_DELAY, atLeast(Duration.ZERO));
    static final Setting<Duration> EVENT_TIMEOUT = SETTINGS.add("eventTimeout", DEFAULT_EVENT_TIMEOUT, positive());
    /** Null in a builder until set: its default follows the poll interval, and is filled in by the build. */
    static final Setting<Duration> HEARTBEAT_TIMEOUT = SETTINGS.add("heartbeatTimeout", null, positive());
    static final Setting<Double> DEGRADED_FAILURE_RATIO = SETTINGS.add("degradedFailureRatio",
            DEFAULT_DEGRADED_FAILURE_RATIO, (name, v) -> {
                if (!(v > 0 && v <= 1)) {
                    throw new IllegalArgumentException(name + " must be in (0, 1], got " + v);
                }
            });

    private static Setting.Check<Integer> atLeast(int min) {
        return (name, v) -> {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", got " + v);
            }
        };
    }

    private static Setting.Check<Duration> positive() {
        return (name, v) -> {
            Objects.requireNonNull(v, name);
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + v);
            }
        };
    }

    private static Setting.Check<Duration> atLeast(Duration min) {
        return (name, v) -> {
            Objects.requireNonNull(v, name);
            if (v.compareTo(min) < 0) {
                throw new IllegalArgumentException(name + (min.isZero() ? " must not be negative, got "
                        : " must be at least " + min.toMillis() + " ms, got ") + v);
            }
        };
    }

    /** Never changed: a builder hands over a copy. */
    final Setting.Values values;

    WorkerConfig(Setting.Values values) {
        this.values = values;
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
        b.values.read(env);
        try {
            return b.build();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("inconsistent environment: " + e.getMessage(), e);
        }
    }

    /** {@return workers per service ({@code WORKER_COUNT})} */
    public int workerCount() { return values.get(WORKER_COUNT); }

    /** {@return the longest a blocking read waits ({@code POLL_INTERVAL_MS})} */
    public Duration pollInterval() { return values.get(POLL_INTERVAL); }

    /** {@return entries read per poll ({@code BATCH_SIZE})} */
    public int batchSize() { return values.get(BATCH_SIZE); }

    /** {@return retries of one event before it is dead-lettered ({@code MAX_RETRIES})} */
    public int maxRetries() { return values.get(MAX_RETRIES); }

    /** {@return events processed at once per worker ({@code CONCURRENCY_LIMIT})} */
    public int concurrencyLimit() { return values.get(CONCURRENCY_LIMIT); }

    /** {@return how often unhealthy workers are replaced ({@code HEALTH_CHECK_INTERVAL_MS})} */
    public Duration healthCheckInterval() { return values.get(HEALTH_CHECK_INTERVAL); }

    /** {@return how often a metrics line is logged ({@code METRICS_REPORTING_INTERVAL_MS})} */
    public Duration metricsReportingInterval() { return values.get(METRICS_REPORTING_INTERVAL); }

    /** {@return the lease of an event's lock ({@code LOCK_TTL_MS})} */
    public Duration lockTtl() { return values.get(LOCK_TTL); }

    /** {@return the idle time after which a dead consumer's work is reclaimed ({@code CLAIM_IDLE_MS})} */
    public Duration claimIdle() { return values.get(CLAIM_IDLE); }

    /** {@return how long shutdown waits for in-flight events ({@code SHUTDOWN_TIMEOUT_MS})} */
    public Duration shutdownTimeout() { return values.get(SHUTDOWN_TIMEOUT); }

    /** {@return the first delay of a recoverable retry ({@code RETRY_INITIAL_DELAY_MS})} */
    public Duration initialBackoff() { return values.get(INITIAL_BACKOFF); }

    /** {@return the cap of the recoverable retry delay before jitter ({@code RETRY_MAX_DELAY_MS})} */
    public Duration maxBackoff() { return values.get(MAX_BACKOFF); }

    /** {@return the first pause before an in-place transient retry} */
    public Duration transientBackoff() { return values.get(TRANSIENT_BACKOFF); }

    /** {@return the delay before an event whose lock was busy is redelivered} */
    public Duration lockContentionDelay() { return values.get(LOCK_CONTENTION_DELAY); }

    /** {@return the time a handler has before its deadline} */
    public Duration eventTimeout() { return values.get(EVENT_TIMEOUT); }

    /** {@return how stale a loop heartbeat may get before its worker is unhealthy} */
    public Duration heartbeatTimeout() { return values.get(HEARTBEAT_TIMEOUT); }

    /** {@return the failure ratio above which a worker is degraded} */
    public double degradedFailureRatio() { return values.get(DEGRADED_FAILURE_RATIO); }

    @Override
    public String toString() {
        return "WorkerConfig{" + values.render(s -> true,
                v -> v instanceof Duration d ? d.toMillis() + "ms" : String.valueOf(v)) + "}";
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
