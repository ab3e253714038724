package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.WorkerService.State;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A service's way down (docs/ARCHITECTURE.md, "The engine"): stops every worker, lets them drain
 * on a thread of its own until a deadline, hands back what is left, closes the workers, then the
 * service's schedules, schedulers and last its transport. The deadline only ever comes earlier: a {@code shutdownNow()} while
 * the drain waits ends the wait at once. The service ends {@link State#TERMINATED}, or
 * {@link State#CRASHED} when a close failed.
 */
public final class ServiceShutdown {

    private static final Logger log = LoggerFactory.getLogger(ServiceShutdown.class);

    private final Lifecycle<State> state;
    private final Supervisor supervisor;
    private final Engine engine;
    private final EventTransport transport;
    private final Runnable stopSchedules;
    private final AtomicLong abandonAtNanos = new AtomicLong(Long.MAX_VALUE);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile List<WorkflowWorker> draining = List.of();

    /**
     * @param state         the service's state
     * @param supervisor    its workers
     * @param engine        what its workers share
     * @param transport     its transport, closed last
     * @param stopSchedules cancels its periodic tasks
     */
    public ServiceShutdown(Lifecycle<State> state, Supervisor supervisor, Engine engine, EventTransport transport,
                           Runnable stopSchedules) {
        this.state = state;
        this.supervisor = supervisor;
        this.engine = engine;
        this.transport = transport;
        this.stopSchedules = stopSchedules;
    }

    /**
     * Begins the shutdown, or brings the deadline of one under way forward. Returns at once.
     *
     * @param grace how long in-flight events may take to finish from now
     */
    public void begin(Duration grace) {
        abandonAtNanos.accumulateAndGet(engine.time().nanoTime() + grace.toNanos(), Math::min);
        // Lowered before the wake-up, so a drain that is woken reads the new deadline.
        draining.forEach(WorkflowWorker::wakeDrain);
        if (state.move(State.NEW, State.STOPPING)) {
            finish(closeResources());
            return;
        }
        if (!state.move(State.RUNNING, State.STOPPING)) {
            return;
        }
        List<WorkflowWorker> all = supervisor.stopAll();
        draining = all;
        engine.threads().newThread("shutdown", () -> drain(all)).start();
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
            finish(closeResources() && clean);
        }
    }

    /** @return false if closing the transport failed */
    private boolean closeResources() {
        stopSchedules.run();
        engine.watchdog().stop();
        engine.threads().shutdownSchedulers();
        WorkerStats t = engine.totals();
        log.info("workflow-worker terminated: processed={} succeeded={} failed={} deadLettered={}",
                t.processed(), t.succeededCount(), t.failedCount(), t.deadLetteredCount());
        try {
            transport.close();
            return true;
        } catch (RuntimeException e) {
            log.error("closing the transport failed", e);
            return false;
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
