package dev.workflowworker.core;

import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.internal.Backoff;
import dev.workflowworker.core.internal.Classification;
import dev.workflowworker.core.internal.Engine;
import dev.workflowworker.core.internal.HealthRules;
import dev.workflowworker.core.internal.LatencyRecorder;
import dev.workflowworker.core.internal.Lifecycle;
import dev.workflowworker.core.internal.Listeners;
import dev.workflowworker.core.internal.LockWatchdog;
import dev.workflowworker.core.internal.OwnLocks;
import dev.workflowworker.core.internal.Periodic;
import dev.workflowworker.core.internal.RetryPolicy;
import dev.workflowworker.core.internal.ServiceHealth;
import dev.workflowworker.core.internal.ServiceShutdown;
import dev.workflowworker.core.internal.Supervisor;
import dev.workflowworker.core.internal.Threads;
import dev.workflowworker.core.internal.WorkerStats;
import dev.workflowworker.core.internal.WorkflowWorker;
import dev.workflowworker.core.memory.InMemoryEventTransport;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The parts of a {@link WorkerService}, built from its builder's settings: the transport (the
 * in-memory one when none is set) and the locks that go with it, the engine with its
 * classifiers, retry policy and lock watchdog, the service's threads, the supervisor of its
 * workers, and the shutdown and health that watch them. The service runs what is built here.
 */
final class ServiceAssembly {

    final WorkerConfig config;
    final EventTransport transport;
    final TimeSource time;
    final String instanceId;
    final Scheduler maintenance;
    final HealthRules.Thresholds thresholds;
    final WorkerStats totals = new WorkerStats(null);
    final LatencyRecorder latency = new LatencyRecorder();
    final Lifecycle<WorkerService.State> state = new Lifecycle<>(Lifecycle.SERVICE, WorkerService.State.NEW);
    final List<Periodic> periodics = new ArrayList<>();
    final Engine engine;
    final Supervisor supervisor;
    final ServiceShutdown shutdown;
    final ServiceHealth health;

    /**
     * Checks the builder's settings and builds the parts.
     *
     * @throws IllegalStateException if no runtime is set, settings contradict each other, or the
     *     transport has no lock provider and none is set
     */
    static ServiceAssembly of(WorkerService.Builder b) {
        if (b.runtime == null) {
            throw new IllegalStateException("runtime must be set: WorkerService.builder().runtime(...)");
        }
        WorkerConfig config = b.buildConfig();
        EventTransport t = b.transport != null ? b.transport
                : InMemoryEventTransport.builder().timeSource(b.time).build();
        if (t.locksKeysItself()) {
            if (b.lockProvider != null) {
                throw new IllegalStateException("lockProvider: transport " + t.getClass().getSimpleName()
                        + " hands out the events of one lock key one at a time under its own lease (a "
                        + "partitioned stream), so a lock provider cannot be added to it; drop lockProvider, or "
                        + "run the transport on one shared stream (RedisOptions.partitions(0)) with it");
            }
            return new ServiceAssembly(b, config, t, OwnLocks.INSTANCE);
        }
        LockProvider locks = b.lockProvider != null ? b.lockProvider : t.lockProvider().orElseThrow(() ->
                new IllegalStateException("lockProvider must be set: transport "
                        + t.getClass().getSimpleName() + " provides none"));
        return new ServiceAssembly(b, config, t, locks);
    }

    private ServiceAssembly(WorkerService.Builder b, WorkerConfig config, EventTransport transport,
                            LockProvider locks) {
        this.config = config;
        this.transport = transport;
        this.time = b.time;
        this.instanceId = hostAndPid();
        Threads threads = new Threads(b.threadFactory, instanceId);
        Scheduler renewals;
        if (b.scheduler != null) {
            renewals = b.scheduler;
            maintenance = b.scheduler;
        } else {
            renewals = threads.scheduler("lock-renewal");
            maintenance = threads.scheduler("maintenance");
        }
        this.thresholds = new HealthRules.Thresholds(config.heartbeatTimeout(), config.healthCheckInterval(),
                config.degradedFailureRatio());
        List<ErrorClassifier> classifiers = new ArrayList<>(b.classifiers);
        // After the host's, so a host can override them; core cannot name a store client's exceptions itself.
        classifiers.addAll(transport.errorClassifiers());
        this.engine = new Engine(config, b.runtime, locks,
                locks == OwnLocks.INSTANCE ? Optional.of(locks) : transport.lockProvider(), time,
                new Classification(classifiers),
                new RetryPolicy(config.maxRetries(), new Backoff(config.initialBackoff(), config.maxBackoff()),
                        new Backoff(config.transientBackoff(), config.initialBackoff())),
                new Listeners(b.listeners), new LockWatchdog(renewals, config.lockTtl(), time,
                        () -> totals.infraError(time.wallMillis(), "lock renewal failed")),
                latency, totals, b.executor, threads, () -> ServiceShutdown.begun(state.get()));
        this.supervisor = new Supervisor(this::newWorker, engine);
        this.shutdown = new ServiceShutdown(state, supervisor, engine, transport, () -> {
            synchronized (periodics) {
                periodics.forEach(Periodic::cancel);
            }
        });
        this.health = new ServiceHealth(supervisor, thresholds, totals, time, transport);
    }

    private WorkflowWorker newWorker(int index) {
        String id = instanceId + "-worker" + index + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        return new WorkflowWorker(id, index, engine, transport.openConsumer(id));
    }

    private static String hostAndPid() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | SecurityException e) {
                host = "host";
            }
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
