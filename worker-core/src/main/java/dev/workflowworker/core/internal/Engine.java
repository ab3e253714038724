package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.WorkerConfig;

import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

/**
 * What every worker of one service shares.
 *
 * @param config         the settings
 * @param runtime        the host's runtime
 * @param locks          the lock provider
 * @param transportLocks the transport's own lock provider, if it has one
 * @param time           the time source
 * @param classification the error classification chain
 * @param retryPolicy    what to do after a failed attempt
 * @param listeners      the host's listeners
 * @param watchdog       the lease renewer
 * @param latency        processing-time histogram
 * @param totals         service-wide counters
 * @param executor       the host's handler executor, or null for a pool per worker
 * @param threads        names and creates the service's threads
 * @param shuttingDown   true once the service is shutting down
 */
public record Engine(WorkerConfig config, WorkflowRuntime runtime, LockProvider locks,
                     Optional<LockProvider> transportLocks, TimeSource time, Classification classification,
                     RetryPolicy retryPolicy, Listeners listeners, LockWatchdog watchdog, LatencyRecorder latency,
                     WorkerStats totals, Executor executor, Threads threads, BooleanSupplier shuttingDown) {
}
