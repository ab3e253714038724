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

    /** The values being built; also what {@link WorkerConfig#fromEnvironment(java.util.Map)} reads into. */
    Setting.Values values = WorkerConfig.SETTINGS.defaults();

    ConfigBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    private <T> B set(Setting<T> setting, T value) {
        values.set(setting, value);
        return self();
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
        values = Objects.requireNonNull(config, "config").values.copy();
        return self();
    }

    /**
     * Sets how many workers ({@code WORKER_COUNT}) the service runs, each with its own consumer in
     * the group; more workers read more entries in parallel at the cost of threads and connections.
     *
     * @param v workers per service, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public B workerCount(int v) {
        return set(WorkerConfig.WORKER_COUNT, v);
    }

    /**
     * Sets the longest a blocking read waits for new entries ({@code POLL_INTERVAL_MS}); it bounds
     * how quickly a worker notices pause, scaling and shutdown while the stream is idle, and the
     * default heartbeat timeout is derived from it.
     *
     * @param v the longest wait of one read, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public B pollInterval(Duration v) {
        return set(WorkerConfig.POLL_INTERVAL, v);
    }

    /**
     * Sets how many entries one read takes ({@code BATCH_SIZE}); larger batches mean fewer round
     * trips but more entries held by one worker while they wait for a free handler slot.
     *
     * @param v entries read per poll, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public B batchSize(int v) {
        return set(WorkerConfig.BATCH_SIZE, v);
    }

    /**
     * Sets how often one event is retried after a recoverable failure before it is dead-lettered
     * ({@code MAX_RETRIES}); 0 dead-letters on the first failure.
     *
     * @param v retries per event, at least 0
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B maxRetries(int v) {
        return set(WorkerConfig.MAX_RETRIES, v);
    }

    /**
     * Sets how many events one worker processes at once ({@code CONCURRENCY_LIMIT}); it bounds the
     * load the handlers put on downstream systems and, without a host executor, the size of each
     * worker's handler pool.
     *
     * @param v events in flight per worker, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public B concurrencyLimit(int v) {
        return set(WorkerConfig.CONCURRENCY_LIMIT, v);
    }

    /**
     * Sets how often worker health is checked and unhealthy workers are replaced ({@code
     * HEALTH_CHECK_INTERVAL_MS}); a shorter interval replaces a stuck worker sooner.
     *
     * @param v the pause between two health checks, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public B healthCheckInterval(Duration v) {
        return set(WorkerConfig.HEALTH_CHECK_INTERVAL, v);
    }

    /**
     * Sets how often a metrics line is logged ({@code METRICS_REPORTING_INTERVAL_MS}), trading log
     * volume against how current the logged figures are.
     *
     * @param v the pause between two metrics lines, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public B metricsReportingInterval(Duration v) {
        return set(WorkerConfig.METRICS_REPORTING_INTERVAL, v);
    }

    /**
     * Sets the lease of an event's lock ({@code LOCK_TTL_MS}), renewed every third of it while the
     * handler runs; it is how long another worker stays locked out after the holder dies without
     * releasing.
     *
     * @param v the lock lease, at least 30 ms
     * @return this builder
     * @throws IllegalArgumentException if shorter than 30 ms
     */
    public B lockTtl(Duration v) {
        return set(WorkerConfig.LOCK_TTL, v);
    }

    /**
     * Sets how long an entry must sit unacknowledged before another worker may claim it ({@code
     * CLAIM_IDLE_MS}); it is how soon the work of a dead consumer resumes, and too short a value
     * takes work from slow but live handlers.
     *
     * @param v the idle time before a claim, at least 30 ms
     * @return this builder
     * @throws IllegalArgumentException if shorter than 30 ms
     */
    public B claimIdle(Duration v) {
        return set(WorkerConfig.CLAIM_IDLE, v);
    }

    /**
     * Sets how long shutdown and scaling down wait for in-flight events to finish ({@code
     * SHUTDOWN_TIMEOUT_MS}); events still running then are handed back for another worker rather
     * than lost.
     *
     * @param v the wait for in-flight events, at least 0
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B shutdownTimeout(Duration v) {
        return set(WorkerConfig.SHUTDOWN_TIMEOUT, v);
    }

    /**
     * Sets the delay before the first retry of a recoverable failure ({@code
     * RETRY_INITIAL_DELAY_MS}); later retries back off exponentially from it, giving a failing
     * dependency time to recover.
     *
     * @param v the first retry delay, at least 0
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B initialBackoff(Duration v) {
        return set(WorkerConfig.INITIAL_BACKOFF, v);
    }

    /**
     * Sets the cap of the exponential retry delay before jitter ({@code RETRY_MAX_DELAY_MS}), so
     * that a long run of failures does not push an event's next attempt arbitrarily far out.
     *
     * @param v the retry delay cap, at least 0 and not below the initial backoff
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B maxBackoff(Duration v) {
        return set(WorkerConfig.MAX_BACKOFF, v);
    }

    /**
     * Sets the first pause before a transient failure is retried in place, without going back to
     * the stream; it doubles per retry and is capped by the initial backoff, so that brief glitches
     * cost milliseconds rather than a full retry round.
     *
     * @param v the first in-place pause, at least 0
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B transientBackoff(Duration v) {
        return set(WorkerConfig.TRANSIENT_BACKOFF, v);
    }

    /**
     * Sets the delay before an event whose lock another worker holds is redelivered: short enough
     * that the event waits little once the lock is free, long enough that a busy lock is not polled
     * in a tight loop.
     *
     * @param v the redelivery delay, at least 0
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public B lockContentionDelay(Duration v) {
        return set(WorkerConfig.LOCK_CONTENTION_DELAY, v);
    }

    /**
     * Sets how long a handler has before its context reports the deadline as passed; handlers that
     * check it can stop cleanly instead of holding a lock and a slot indefinitely.
     *
     * @param v the handler time budget, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public B eventTimeout(Duration v) {
        return set(WorkerConfig.EVENT_TIMEOUT, v);
    }

    /**
     * Sets how stale a worker's loop heartbeat may get before the worker counts as unhealthy and is
     * replaced; defaults to three poll intervals plus 5 s, so an idle blocking read is never
     * mistaken for a hang.
     *
     * @param v the heartbeat timeout, positive and longer than the poll interval
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public B heartbeatTimeout(Duration v) {
        return set(WorkerConfig.HEARTBEAT_TIMEOUT, v);
    }

    /**
     * Sets the failure ratio over the last health window above which a worker reports itself
     * degraded, so that a worker failing most of its events shows in health before anyone reads the
     * dead letters.
     *
     * @param v the ratio, in (0, 1]
     * @return this builder
     * @throws IllegalArgumentException if outside (0, 1]
     */
    public B degradedFailureRatio(double v) {
        return set(WorkerConfig.DEGRADED_FAILURE_RATIO, v);
    }

    /**
     * Builds the config after checking combinations of settings.
     *
     * @return the config
     * @throws IllegalStateException if settings contradict each other
     */
    WorkerConfig buildConfig() {
        Duration initialBackoff = values.get(WorkerConfig.INITIAL_BACKOFF);
        Duration maxBackoff = values.get(WorkerConfig.MAX_BACKOFF);
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalStateException("maxBackoff (" + maxBackoff + ") must be >= initialBackoff ("
                    + initialBackoff + ")");
        }
        Duration pollInterval = values.get(WorkerConfig.POLL_INTERVAL);
        Setting.Values built = values.copy();
        if (built.get(WorkerConfig.HEARTBEAT_TIMEOUT) == null) {
            built.set(WorkerConfig.HEARTBEAT_TIMEOUT, pollInterval.multipliedBy(3).plusSeconds(5));
        }
        Duration heartbeat = built.get(WorkerConfig.HEARTBEAT_TIMEOUT);
        if (heartbeat.compareTo(pollInterval) <= 0) {
            throw new IllegalStateException("heartbeatTimeout (" + heartbeat + ") must be longer than pollInterval ("
                    + pollInterval + ")");
        }
        return new WorkerConfig(built);
    }
}
