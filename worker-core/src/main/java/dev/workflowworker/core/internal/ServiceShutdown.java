package dev.workflowworker.core.internal;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.WorkerService.State;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A service's way down (docs/ARCHITECTURE.md, "The engine"): stops every worker, lets them drain
 * on a thread of its own until a deadline, hands back what is left, closes the workers and then
 * the service's own resources. The deadline only ever comes earlier: a {@code shutdownNow()} while
 * the drain waits ends the wait at once. The service ends {@link State#TERMINATED}, or
 * {@link State#CRASHED} when a close failed.
 */
public final class ServiceShutdown {

    private static final Logger log = LoggerFactory.getLogger(ServiceShutdown.class);

    private final Lifecycle<State> state;
    private final Supervisor supervisor;
    private final Threads threads;
    private final TimeSource time;
    private final BooleanSupplier closeResources;
    private final AtomicLong abandonAtNanos = new AtomicLong(Long.MAX_VALUE);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile List<WorkflowWorker> draining = List.of();

    /**
     * @param state          the service's state
     * @param supervisor     its workers
     * @param threads        where the drain thread comes from
     * @param time           the time source of the deadline
     * @param closeResources closes what the service owns besides its workers, last; false if a
     *                       close failed
     */
    public ServiceShutdown(Lifecycle<State> state, Supervisor supervisor, Threads threads, TimeSource time,
                           BooleanSupplier closeResources) {
        this.state = state;
        this.supervisor = supervisor;
        this.threads = threads;
        this.time = time;
        this.closeResources = closeResources;
    }

    /**
     * Begins the shutdown, or brings the deadline of one under way forward. Returns at once.
     *
     * @param grace how long in-flight events may take to finish from now
     */
    public void begin(Duration grace) {
        abandonAtNanos.accumulateAndGet(time.nanoTime() + grace.toNanos(), Math::min);
        // Lowered before the wake-up, so a drain that is woken reads the new deadline.
        draining.forEach(WorkflowWorker::wakeDrain);
        if (state.move(State.NEW, State.STOPPING)) {
            finish(closeResources.getAsBoolean());
            return;
        }
        if (!state.move(State.RUNNING, State.STOPPING)) {
            return;
        }
        List<WorkflowWorker> all = supervisor.stopAll();
        draining = all;
        threads.newThread("shutdown", () -> drain(all)).start();
    }

    /**
     * @param s a service's state
     * @return true if its shutdown began
     */
    public static boolean begun(State s) {
        return s != State.NEW && s != State.RUNNING;
    }

    private void drain(List<WorkflowWorker> all) {
        boolean clean = true;
        try {
            for (WorkflowWorker w : all) {
                w.drain(abandonAtNanos::get);
            }
        } finally {
            for (WorkflowWorker w : all) {
                // A worker retired by scale() may be closed by its own retire thread.
                if (supervisor.forget(w) && !w.close()) {
                    clean = false;
                }
            }
            finish(closeResources.getAsBoolean() && clean);
        }
    }

    private void finish(boolean clean) {
        state.moveTo(clean ? State.TERMINATED : State.CRASHED);
        terminated.countDown();
        if (!clean) {
            log.error("workflow-worker crashed while shutting down: a close failed (logged above)");
        }
    }

    /**
     * @param timeout the longest to wait
     * @return true if the service terminated, or crashed, within it
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean await(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
}
