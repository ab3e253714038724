package dev.workflowworker.core.internal;

import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.api.WorkerState;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One worker: wires its parts together and runs its lifecycle. The {@link PollLoop} reads, the
 * {@link Dispatcher} locks and starts handlers, the {@link DeliveryRunner} runs each delivery, the
 * {@link Settler} commits successes in groups, {@link Settlement} settles the rest and
 * {@link Upkeep} looks after stalled work (docs/ARCHITECTURE.md, "The engine").
 */
public final class WorkflowWorker {

    private static final Logger log = LoggerFactory.getLogger(WorkflowWorker.class);

    /** How long handlers interrupted at a drain's deadline get to unwind before their pool is shut down. */
    private static final long UNWIND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String id;
    private final int index;
    private final Engine e;
    private final EventTransport.Consumer consumer;
    private final WorkerStats stats;
    private final Slots slots;
    private final Lifecycle<WorkerState> state = new Lifecycle<>(Lifecycle.WORKER, WorkerState.RUNNING);
    private final ReadGate gate = new ReadGate(state);
    private final Settlement settlement;
    private final Settler settler;
    private final HandlerPool ownExecutor;
    private final Thread loopThread;
    private volatile boolean loopExited;
    private final PollLoop loop;
    private volatile String crashReason;

    /**
     * @param id       the worker's id, also its consumer name
     * @param index    its slot in the service, from 1
     * @param engine   what the service's workers share
     * @param consumer its consumer
     */
    public WorkflowWorker(String id, int index, Engine engine, EventTransport.Consumer consumer) {
        this.id = id;
        this.index = index;
        this.e = engine;
        this.consumer = consumer;
        this.stats = new WorkerStats(engine.totals());
        int limit = engine.config().concurrencyLimit();
        this.slots = new Slots(limit, stats, engine.time());
        BatchLocking locking = BatchLocking.of(consumer, engine.locks(), engine.transportLocks());
        this.settlement = new Settlement(id, consumer, locking, stats, engine.listeners(), engine.time(),
                engine.config().lockContentionDelay());
        this.settler = new Settler(locking, settlement, slots, engine.threads(), index + "-settle", this::crash,
                engine.time(), consumer.commitLinger());
        Executor executor;
        if (engine.executor() != null) {
            this.ownExecutor = null;
            executor = engine.executor();
        } else {
            this.ownExecutor = new HandlerPool(limit, engine.threads().factory(index + "-exec"));
            executor = ownExecutor;
        }
        DeliveryRunner runner = new DeliveryRunner(id, stats, engine, engine.retryPolicy(), settlement, settler, slots,
                this::crash);
        Dispatcher dispatcher = new Dispatcher(slots, gate, settlement, settler, locking,
                new ContentionBackoff(engine.config().lockContentionDelay(), engine.config().lockTtl()),
                executor, f -> {
                    try {
                        runner.process(f);
                    } finally {
                        // Outside the delivery's MDC and handler bookkeeping: it may commit a batch here.
                        settler.handlerDone(f);
                    }
                }, engine.time(), engine.config().lockTtl(),
                engine.config().lockContentionDelay());
        Upkeep upkeep = new Upkeep(id, consumer, slots, dispatcher, settlement, stats, engine.time(),
                engine.config().claimIdle(), engine.config().batchSize());
        this.loop = new PollLoop(id, consumer, slots, gate, dispatcher, upkeep, settlement, stats, engine.time(),
                engine.config().pollInterval(), engine.config().batchSize(), this::crash);
        settler.afterInlineCommit(loop::refill);
        this.loopThread = engine.threads().newThread(Integer.toString(index), () -> {
            try {
                loop.run();
            } finally {
                loopExited = true;
                slots.wake();
            }
        });
        stats.heartbeat(engine.time().wallMillis());
    }

    /** Starts the loop and the group commit. */
    public void start() {
        settler.start();
        loopThread.start();
        e.listeners().workerState(id, state.get());
    }

    /** @return the worker's id */
    public String id() {
        return id;
    }

    /** @return its slot in the service, from 1 */
    public int index() {
        return index;
    }

    /** @return its counters */
    public WorkerStats stats() {
        return stats;
    }

    /** @return its lifecycle state */
    public WorkerState state() {
        return state.get();
    }

    private void crash(Throwable t) {
        crash("crashed; the health monitor will replace it", t);
    }

    private void crash(String what, Throwable t) {
        if (crashReason == null) {
            crashReason = t.toString();
        }
        log.error("worker {} {}", id, what, t);
        move(WorkerState.CRASHED);
    }

    private void move(WorkerState to) {
        if (state.moveTo(to)) {
            e.listeners().workerState(id, to);
        }
    }

    /**
     * Pauses or resumes reading. In-flight events go on; stalled-work upkeep keeps running so the
     * worker's pending entries stay fresh.
     *
     * @param pause true to pause
     */
    public void paused(boolean pause) {
        // The table allows PAUSED only from RUNNING and back: a stopping or crashed worker stays so.
        move(pause ? WorkerState.PAUSED : WorkerState.RUNNING);
    }

    /** Stops reading; in-flight events go on. Non-blocking, idempotent. */
    public void stopReading() {
        move(WorkerState.STOPPING);
    }

    /** Stops reading and interrupts the loop: used to replace a stuck or crashed worker. */
    public void retire() {
        stopReading();
        loopThread.interrupt();
    }

    /**
     * Waits until the loop has exited and no event is in flight, or until the deadline; then
     * interrupts what is left, hands it back, and gives the interrupted handlers a moment to unwind.
     *
     * @param deadlineNanos a deadline on the engine's time source, read again whenever
     *                      {@link #wakeDrain()} is called, so that one brought forward ends the wait
     */
    public void drain(LongSupplier deadlineNanos) {
        try {
            if (!slots.awaitEmpty(deadlineNanos, this::loopDone)) {
                abandonInFlight();
                long unwindUntil = e.time().nanoTime() + UNWIND_NANOS;
                slots.awaitEmpty(() -> unwindUntil, this::loopDone);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            abandonInFlight();
        }
    }

    /** Makes a {@link #drain} in progress read its deadline again. */
    public void wakeDrain() {
        slots.wake();
    }

    /** @return true when the loop has exited and nothing is in flight */
    public boolean isDrained() {
        return loopDone() && slots.isEmpty();
    }

    /** {@return true once the loop exited and no handler's thread reads for it (PollLoop#refill)} */
    private boolean loopDone() {
        return loopExited && !loop.refilling();
    }

    /**
     * Interrupts handlers still running and hands their deliveries back for immediate
     * redelivery. A delivery whose handler succeeded stays: its success is the settler's, queued
     * or in a commit on the wire, and the close commits what is queued before it closes the
     * consumer ({@link Settler#stop}). Handed back, it was ready again before its commit landed,
     * which then found it no longer pending, and its completed handler ran again. A handler that
     * returns after this scan was abandoned: its late success counts only where the transport
     * still knows the delivery (a processed marker makes the redelivery a duplicate).
     */
    private void abandonInFlight() {
        loopThread.interrupt();
        List<Delivery> left = new ArrayList<>();
        for (InFlight f : slots.inFlight()) {
            if (f.succeeded) {
                continue;
            }
            left.add(f.delivery);
            Thread t = f.thread;
            if (t != null) {
                t.interrupt();
            }
        }
        if (!left.isEmpty()) {
            log.warn("worker {}: {} events did not finish before the shutdown deadline; handing them back", id,
                    left.size());
            settlement.handBack(left);
        }
    }

    /**
     * Settles what is queued, then releases the consumer and the handler pool.
     *
     * @return false if closing crashed the worker (its consumer's close threw, say)
     */
    public boolean close() {
        stopReading();
        boolean crashedBefore = state.get() == WorkerState.CRASHED;
        boolean consumerClosed = true;
        // What is still queued settles first: those handlers succeeded.
        settler.stop(TimeUnit.SECONDS.toMillis(10));
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
        try {
            consumer.close();
        } catch (RuntimeException ex) {
            consumerClosed = false;
            crash("crashed while closing its consumer", ex);
        }
        move(WorkerState.STOPPED);
        // The settler crashes the worker if committing what was queued threw an Error.
        return consumerClosed && (crashedBefore || state.get() != WorkerState.CRASHED);
    }

    /** Marks a worker the health monitor gave up on; it is then retired and closed. */
    public void replaced() {
        move(WorkerState.REPLACED);
    }

    /**
     * @param nowMillis clock time
     * @param t         thresholds
     * @return this worker's health
     */
    public WorkerHealth health(long nowMillis, HealthRules.Thresholds t) {
        HealthRules.Verdict v = HealthRules.worker(state.get(), crashReason, stats, nowMillis, t);
        return new WorkerHealth(id, v.status(), state.get(), v.reason(), stats.processed(), stats.succeededCount(),
                stats.failedCount(), stats.active(), Instant.ofEpochMilli(stats.heartbeatMillis()), stats.lastError());
    }

    /**
     * @param nowMillis clock time
     * @param t         thresholds
     * @return true if the health rules call this worker unhealthy
     */
    public boolean isUnhealthy(long nowMillis, HealthRules.Thresholds t) {
        return HealthRules.worker(state.get(), crashReason, stats, nowMillis, t).status() == HealthStatus.UNHEALTHY;
    }
}
