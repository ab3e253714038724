package dev.workflowworker.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the service's timed work: health checks, metrics reports and lock renewals. The default
 * runs them on the service's own named threads; a host may pass its own, and tests pass a fake
 * one driven by a fake {@link TimeSource}, so that nothing waits for real time.
 */
@FunctionalInterface
public interface Scheduler {

    /**
     * Runs {@code task} once after {@code delay}.
     *
     * @param task  the task; it must not block for long, since renewals share the scheduler
     * @param delay how long to wait, zero or more
     * @return a handle that cancels the task if it has not started
     */
    Future<?> schedule(Runnable task, Duration delay);

    /**
     * A scheduler on an executor the caller owns (and shuts down).
     *
     * @param executor the executor
     * @return the scheduler
     */
    static Scheduler of(ScheduledExecutorService executor) {
        Objects.requireNonNull(executor, "executor");
        return (task, delay) -> executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }
}
