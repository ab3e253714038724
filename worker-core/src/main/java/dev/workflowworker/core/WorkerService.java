package dev.workflowworker.core;

import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.schedule.Scheduling;
import dev.workflowworker.core.internal.Engine;
import dev.workflowworker.core.internal.HealthRules;
import dev.workflowworker.core.internal.LatencyRecorder;
import dev.workflowworker.core.internal.Lifecycle;
import dev.workflowworker.core.internal.MetricsLog;
import dev.workflowworker.core.internal.Periodic;
import dev.workflowworker.core.internal.ServiceHealth;
import dev.workflowworker.core.internal.ServiceShutdown;
import dev.workflowworker.core.internal.Supervisor;
import dev.workflowworker.core.internal.WorkerStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * Runs N workers that consume workflow events from a transport, process each through a
 * {@link WorkflowRuntime} under a distributed lock, and settle it (docs/ARCHITECTURE.md, "Promises"): success,
 * retry with backoff, or dead letter. Monitors the workers' health, replaces unhealthy ones, and
 * logs metrics periodically.
 *
 * <pre>{@code
 * try (WorkerService service = WorkerService.builder()
 *         .runtime(ActionRuntime.builder().on("TICKET_CREATED", ctx -> notify(ctx)).build())
 *         .workerCount(4)
 *         .build()) {
 *     service.start();
 *     service.publisher().publish(WorkflowEvent.builder("TICKET_CREATED").build());
 * }
 * }</pre>
 *
 * <p>Without {@link Builder#transport} the service runs on the in-memory transport. The service
 * owns its transport: it closes it when it terminates.
 */
public final class WorkerService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerService.class);

    /** Lifecycle states. */
    public enum State {
        /** Built, not started. */
        NEW,
        /** Workers are reading and processing. */
        RUNNING,
        /** Shutdown requested: no new reads; in-flight events are finishing. */
        STOPPING,
        /** Every worker stopped and the transport is closed. */
        TERMINATED,
        /**
         * Stopped like {@link #TERMINATED}, but a close failed on the way (the transport's or a
         * worker's consumer's threw, as logged): connections may be left open.
         */
        CRASHED
    }

    private final WorkerConfig config;
    private final EventTransport transport;
    private final TimeSource time;
    private final Engine engine;
    private final Supervisor supervisor;
    private final HealthRules.Thresholds thresholds;
    private final WorkerStats totals;
    private final LatencyRecorder latency;
    private final Scheduler maintenance;
    private final Lifecycle<State> state;
    private final ServiceShutdown shutdown;
    private final String instanceId;
    private final List<Periodic> periodics;
    private final ServiceHealth health;

    private WorkerService(ServiceAssembly parts) {
        this.config = parts.config;
        this.transport = parts.transport;
        this.time = parts.time;
        this.engine = parts.engine;
        this.supervisor = parts.supervisor;
        this.thresholds = parts.thresholds;
        this.totals = parts.totals;
        this.latency = parts.latency;
        this.maintenance = parts.maintenance;
        this.state = parts.state;
        this.shutdown = parts.shutdown;
        this.instanceId = parts.instanceId;
        this.periodics = parts.periodics;
        this.health = parts.health;
    }

    /** {@return a builder with every default; only the runtime must be set} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the workers and the health and metrics schedules.
     *
     * @return this service
     * @throws IllegalStateException if the service was started before
     */
    public WorkerService start() {
        if (!state.move(State.NEW, State.RUNNING)) {
            throw new IllegalStateException("WorkerService can be started once; it is " + state.get());
        }
        supervisor.start(config.workerCount());
        synchronized (periodics) {
            periodics.add(Periodic.start(maintenance, config.healthCheckInterval(), this::healthCheck));
            periodics.add(Periodic.start(maintenance, config.metricsReportingInterval(),
                    new MetricsLog(log, totals, latency, time, this::health)::report));
        }
        log.info("workflow-worker {} started: {} workers on {} stream {} ({})", instanceId, config.workerCount(),
                transport.getClass().getSimpleName(), transport.stream(), config);
        return this;
    }

    /**
     * Changes the number of workers at runtime. New workers start at once; retired workers stop
     * reading, finish their in-flight events (up to the shutdown timeout, then hand them back)
     * and release their consumer. No event is lost either way.
     *
     * @param workerCount the new number of workers, at least 1
     * @throws IllegalArgumentException if {@code workerCount} is below 1
     * @throws IllegalStateException    if the service is not running
     */
    public void scale(int workerCount) {
        if (workerCount < 1) {
            throw new IllegalArgumentException("workerCount must be >= 1, got " + workerCount);
        }
        if (state.get() != State.RUNNING || !supervisor.scale(workerCount, config.shutdownTimeout())) {
            throw new IllegalStateException("scale needs a running service; it is " + state.get());
        }
        log.info("scaled to {} workers", workerCount);
    }

    /**
     * Stops reading new events on every worker; in-flight events finish. Health reports the
     * workers as degraded with reason {@code paused}. Idempotent.
     */
    public void pause() {
        supervisor.pause(true);
    }

    /** Resumes reading after {@link #pause()}. Idempotent. */
    public void resume() {
        supervisor.pause(false);
    }

    /** {@return true between {@link #pause()} and {@link #resume()}} */
    public boolean isPaused() {
        return supervisor.isPaused();
    }

    /**
     * Adds a listener at runtime (metrics binders use this).
     *
     * @param listener the listener
     */
    public void addListener(WorkerListener listener) {
        engine.listeners().add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener added with {@link #addListener} or the builder, e.g. when the metrics
     * binder that added it is closed.
     *
     * @param listener a listener added before
     * @return true if it was registered
     */
    public boolean removeListener(WorkerListener listener) {
        return engine.listeners().remove(listener);
    }

    private void healthCheck() {
        if (state.get() == State.RUNNING) {
            supervisor.check(time.wallMillis(), thresholds);
        }
    }

    /**
     * The service's health now (docs/ARCHITECTURE.md, "Health"). Cheap: reads counters only.
     *
     * @return the snapshot
     */
    public HealthSnapshot health() {
        return health.snapshot(state.get() != State.NEW);
    }

    /**
     * The transport's view of the stream: lag, pending entries, scheduled retries, dead letters.
     * Costs a round trip on Redis; meant for metrics scrapes and diagnostics.
     *
     * @return the statistics, or empty if the transport keeps none
     * @throws RuntimeException if the transport's store cannot be reached
     */
    public Optional<StreamStats> transportStats() {
        return transport.stats();
    }

    /** {@return the publisher of the service's transport, for publishing events} */
    public EventPublisher publisher() {
        return transport;
    }

    /**
     * {@return the transport's delayed events, for publishing events due later, or empty when the
     * transport cannot delay events}
     */
    public Optional<DelayedEvents> delayed() {
        return transport.delayed();
    }

    /**
     * {@return the transport's recurring schedules, or empty when the transport keeps none}
     * Schedules fire while the service reads: a stopped or paused service fires nothing, and
     * what came due meanwhile is handled by each schedule's misfire policy.
     */
    public Optional<Schedules> schedules() {
        return transport instanceof Scheduling s ? s.schedules() : Optional.empty();
    }

    /**
     * {@return the stream the transport reads ({@link EventTransport#stream()})}, for logs and
     * metric tags.
     */
    public String stream() {
        return transport.stream();
    }

    /**
     * {@return the engine's settings}; where events come from is the transport's own setting.
     */
    public WorkerConfig config() {
        return config;
    }

    /**
     * {@return the id of this service instance (host name and process id)}, part of its worker ids
     * and thread names so that logs and consumers can be traced back to a process.
     */
    public String instanceId() {
        return instanceId;
    }

    /** {@return the lifecycle state} */
    public State state() {
        return state.get();
    }

    /**
     * Stops reading new events and lets in-flight events finish for up to
     * {@link WorkerConfig#shutdownTimeout()}; what is left then is handed back for immediate
     * redelivery. Handlers see {@link dev.workflowworker.api.EventContext#isCancelled()} turn true.
     * Returns at once; idempotent.
     */
    public void shutdown() {
        shutdown.begin(config.shutdownTimeout());
    }

    /**
     * Like {@link #shutdown()} but does not wait for in-flight events: their handlers are
     * interrupted and the events handed back at once, also when a {@link #shutdown()} is already
     * waiting for them. Returns at once; idempotent.
     */
    public void shutdownNow() {
        shutdown.begin(Duration.ZERO);
    }

    /**
     * Waits for the service to terminate after a shutdown.
     *
     * @param timeout the longest to wait
     * @return true if it terminated ({@link State#TERMINATED} or {@link State#CRASHED})
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return shutdown.await(timeout);
    }

    /**
     * Shuts down and waits up to the shutdown timeout plus a grace period for termination.
     * Idempotent. Restores the interrupt flag if interrupted while waiting.
     */
    @Override
    public void close() {
        shutdown();
        try {
            if (!awaitTermination(config.shutdownTimeout().plusSeconds(5))) {
                log.warn("workflow-worker did not terminate within {} ms", config.shutdownTimeout().toMillis() + 5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Builds {@link WorkerService}s. Every setting of {@link WorkerConfig} is available here too;
     * the stream, group and store are settings of the {@link #transport transport}.
     */
    public static final class Builder extends ConfigBuilder<Builder> {
        // Package-private: ServiceAssembly builds the service's parts from them.
        EventTransport transport;
        LockProvider lockProvider;
        WorkflowRuntime runtime;
        TimeSource time = TimeSource.system();
        Scheduler scheduler;
        final List<ErrorClassifier> classifiers = new ArrayList<>();
        final List<WorkerListener> listeners = new ArrayList<>();
        Executor executor;
        ThreadFactory threadFactory;

        private Builder() {
        }

        /**
         * Sets where events come from and where outcomes are written; the in-memory transport when
         * never set, which suits tests and demos but loses everything on exit. The service closes
         * the transport when it shuts down.
         *
         * @param v the transport
         * @return this builder
         */
        public Builder transport(EventTransport v) {
            transport = Objects.requireNonNull(v, "transport");
            return this;
        }

        /**
         * Sets the locks, by lock key, that keep two workers from processing conflicting events at
         * once; defaults to the transport's own, so set it only to share locks with something
         * outside the transport.
         *
         * @param v the lock provider
         * @return this builder
         */
        public Builder lockProvider(LockProvider v) {
            lockProvider = Objects.requireNonNull(v, "lockProvider");
            return this;
        }

        /**
         * Sets the runtime that turns each event into the application's work; required, since
         * without it there is nothing to process.
         *
         * @param v the runtime
         * @return this builder
         */
        public Builder runtime(WorkflowRuntime v) {
            runtime = Objects.requireNonNull(v, "runtime");
            return this;
        }

        /**
         * The time source of deadlines, retry due times, leases, cadences and health; tests pass a
         * fake one. Defaults to {@link TimeSource#system()}. A transport built without it keeps its own.
         *
         * @param v the time source
         * @return this builder
         */
        public Builder timeSource(TimeSource v) {
            time = Objects.requireNonNull(v, "timeSource");
            return this;
        }

        /**
         * Runs health checks, metrics reports and lock renewals on the host's scheduler instead of
         * two threads of the service's own. The service does not shut it down.
         *
         * @param v the scheduler
         * @return this builder
         */
        public Builder scheduler(Scheduler v) {
            scheduler = Objects.requireNonNull(v, "scheduler");
            return this;
        }

        /**
         * Adds a host classifier that decides the {@link dev.workflowworker.api.ErrorCategory} of
         * the host's own exception types, and so whether a failure is retried or dead-lettered; it
         * is consulted after classifiers added earlier and before the transport's {@link
         * EventTransport#errorClassifiers()} and the defaults, so the host has the first say after
         * the exception's own type.
         *
         * @param v the classifier
         * @return this builder
         */
        public Builder errorClassifier(ErrorClassifier v) {
            classifiers.add(Objects.requireNonNull(v, "errorClassifier"));
            return this;
        }

        /**
         * Adds a listener of processing outcomes, for metrics, audit or tests; listeners can also
         * be added once the service runs with {@link WorkerService#addListener}.
         *
         * @param v the listener
         * @return this builder
         */
        public Builder listener(WorkerListener v) {
            listeners.add(Objects.requireNonNull(v, "listener"));
            return this;
        }

        /**
         * Runs handlers on the host's executor (virtual threads on Java 21+, say) instead of a
         * pool of {@code concurrencyLimit} threads per worker. Concurrency stays bounded by
         * {@code concurrencyLimit}. The service does not shut the executor down.
         *
         * @param v the executor
         * @return this builder
         */
        public Builder executor(Executor v) {
            executor = Objects.requireNonNull(v, "executor");
            return this;
        }

        /**
         * Sets the factory of the service's own threads, for hosts that track or constrain thread
         * creation; the threads it returns are renamed and made daemon so they never keep the JVM
         * alive.
         *
         * @param v the thread factory
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory v) {
            threadFactory = Objects.requireNonNull(v, "threadFactory");
            return this;
        }

        /**
         * Builds the service without starting it, so that the host can register listeners and wire
         * metrics before the first event is read.
         *
         * @return the service, not yet started
         * @throws IllegalStateException if no runtime is set, settings contradict each other, or
         *     the transport has no lock provider and none is set
         */
        public WorkerService build() {
            return new WorkerService(ServiceAssembly.of(this));
        }
    }
}
