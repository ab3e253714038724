package dev.workflowworker.core.internal;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.EventTransport;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.Lock;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.api.WorkflowEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One worker: a loop thread that reads batches from its consumer and a bounded set of handler
 * threads that process them under the event's lock, then settle each delivery per DESIGN §4.
 */
public final class WorkflowWorker {

    private static final Logger log = LoggerFactory.getLogger(WorkflowWorker.class);
    private static final int MAX_STACK_CHARS = 8192;
    private static final long MAX_POLL_BACKOFF_MS = 5000;
    private static final int MAX_TRACKED_CONTENTIONS = 10_000;

    private final String id;
    private final int index;
    private final Engine e;
    private final EventTransport.Consumer consumer;
    private final WorkerStats stats;
    private final Semaphore permits;
    private final int limit;
    private final ExecutorService ownExecutor;
    private final Executor executor;
    private final ConcurrentHashMap<String, InFlight> inFlight = new ConcurrentHashMap<>();
    /** Consecutive lock contentions per key, for backing off; bounded by clearing when large. */
    private final ConcurrentHashMap<String, Integer> contentions = new ConcurrentHashMap<>();
    private final Object drainMonitor = new Object();
    private final Thread loopThread;
    private volatile boolean stopRequested;
    private volatile boolean paused;
    private final Object pauseMonitor = new Object();
    private volatile String state = "running";
    private volatile String crashReason;
    private long lastKeepAliveNanos = System.nanoTime();
    private long lastClaimNanos = System.nanoTime();

    private static final class InFlight {
        final Delivery delivery;
        volatile Thread thread;

        InFlight(Delivery delivery) {
            this.delivery = delivery;
        }
    }

    public WorkflowWorker(String id, int index, Engine engine, EventTransport.Consumer consumer) {
        this.id = id;
        this.index = index;
        this.e = engine;
        this.consumer = consumer;
        this.stats = new WorkerStats(engine.totals());
        this.limit = engine.config().concurrencyLimit();
        this.permits = new Semaphore(limit);
        if (engine.executor() != null) {
            this.ownExecutor = null;
            this.executor = engine.executor();
        } else {
            AtomicInteger n = new AtomicInteger();
            this.ownExecutor = new ThreadPoolExecutor(limit, limit, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> newThread(r, "workflow-worker-" + index + "-exec-" + n.incrementAndGet()));
            this.executor = ownExecutor;
        }
        this.loopThread = newThread(this::runLoop, "workflow-worker-" + index);
        stats.heartbeat(engine.clock().millis());
    }

    private Thread newThread(Runnable r, String name) {
        Thread t = e.threadFactory() != null ? e.threadFactory().newThread(r) : new Thread(r);
        t.setName(name);
        t.setDaemon(true);
        return t;
    }

    /** Starts the loop thread. */
    public void start() {
        loopThread.start();
        e.listeners().workerState(id, state);
    }

    public String id() {
        return id;
    }

    public int index() {
        return index;
    }

    public WorkerStats stats() {
        return stats;
    }

    public String state() {
        return state;
    }

    // ---------------------------------------------------------------- loop

    private void runLoop() {
        MDC.put("workerId", id);
        long backoffMs = 0;
        try {
            while (!stopRequested) {
                stats.heartbeat(e.clock().millis());
                maintain();
                if (paused) {
                    synchronized (pauseMonitor) {
                        if (paused && !stopRequested) {
                            pauseMonitor.wait(e.config().pollInterval().toMillis());
                        }
                    }
                    continue;
                }
                if (!permits.tryAcquire(e.config().pollInterval().toMillis(), TimeUnit.MILLISECONDS)) {
                    continue;
                }
                int granted = 1;
                while (granted < e.config().batchSize() && permits.tryAcquire()) {
                    granted++;
                }
                List<Delivery> batch;
                try {
                    batch = consumer.poll(granted, e.config().pollInterval());
                    backoffMs = 0;
                } catch (RuntimeException ex) {
                    permits.release(granted);
                    infraError("poll failed", ex);
                    backoffMs = Math.min(MAX_POLL_BACKOFF_MS, Math.max(100, backoffMs * 2));
                    pauseLoop(backoffMs);
                    continue;
                }
                dispatch(batch, granted);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (OutOfMemoryError | RuntimeException | LinkageError | AssertionError | StackOverflowError t) {
            crash(t);
        } finally {
            MDC.remove("workerId");
        }
    }

    /** Sleeps in slices so the heartbeat stays fresh while the transport is down. */
    private void pauseLoop(long ms) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long slice = Math.max(1, Math.min(ms, e.config().pollInterval().toMillis()));
        while (!stopRequested) {
            long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
            if (left <= 0) {
                return;
            }
            Thread.sleep(Math.min(slice, left));
            stats.heartbeat(e.clock().millis());
        }
    }

    private void dispatch(List<Delivery> batch, int granted) {
        permits.release(granted - batch.size());
        for (Delivery d : batch) {
            // A poll that was blocked when pause() or shutdown began must not start new handlers.
            if (stopRequested || paused) {
                handBack(d);
                permits.release();
                continue;
            }
            InFlight f = new InFlight(d);
            inFlight.put(d.id(), f);
            stats.activated(e.clock().millis(), limit);
            try {
                executor.execute(() -> process(f));
            } catch (RejectedExecutionException ex) {
                inFlight.remove(d.id());
                stats.deactivated(limit);
                permits.release();
                handBack(d);
            }
        }
    }

    private void maintain() {
        long now = System.nanoTime();
        long claimIdleNanos = e.config().claimIdle().toNanos();
        try {
            if (now - lastKeepAliveNanos >= claimIdleNanos / 3) {
                lastKeepAliveNanos = now;
                if (!inFlight.isEmpty()) {
                    List<Delivery> alive = new ArrayList<>(inFlight.size());
                    for (InFlight f : inFlight.values()) {
                        alive.add(f.delivery);
                    }
                    consumer.keepAlive(alive);
                }
            }
            if (now - lastClaimNanos >= claimIdleNanos / 2) {
                lastClaimNanos = now;
                int want = Math.min(permits.availablePermits(), e.config().batchSize());
                if (want > 0 && permits.tryAcquire(want)) {
                    List<Delivery> claimed;
                    try {
                        claimed = consumer.claimStalled(e.config().claimIdle(), want);
                    } catch (RuntimeException ex) {
                        permits.release(want);
                        throw ex;
                    }
                    if (!claimed.isEmpty()) {
                        log.info("worker {} reclaimed {} stalled entries", id, claimed.size());
                    }
                    dispatch(claimed, want);
                }
            }
        } catch (RuntimeException ex) {
            infraError("stalled-work maintenance failed", ex);
        }
    }

    // ---------------------------------------------------------------- one delivery

    private void process(InFlight f) {
        f.thread = Thread.currentThread();
        Delivery d = f.delivery;
        putMdc(d);
        try {
            handle(d);
        } catch (OutOfMemoryError oom) {
            // The entry stays pending and is reclaimed; a worker that ran out of memory is replaced.
            crash(oom);
        } catch (RuntimeException ex) {
            infraError("settling entry " + d.id() + " failed; it stays pending and will be reclaimed", ex);
        } finally {
            f.thread = null;
            inFlight.remove(d.id());
            stats.deactivated(limit);
            permits.release();
            clearMdc();
            if (stopRequested && inFlight.isEmpty()) {
                synchronized (drainMonitor) {
                    drainMonitor.notifyAll();
                }
            }
        }
    }

    private void handle(Delivery d) {
        if (d.isMalformed()) {
            stats.failed(d.decodeError());
            deadLetter(d, ErrorCategory.PERMANENT, d.decodeError(), null, 0, null);
            return;
        }
        WorkflowEvent event = d.event();
        Optional<Lock> acquired;
        try {
            acquired = e.locks().tryAcquire(event.lockKey(), e.config().lockTtl());
        } catch (RuntimeException ex) {
            infraError("lock acquisition failed", ex);
            reschedule(d, e.config().lockContentionDelay(), d.attempt());
            return;
        }
        if (acquired.isEmpty()) {
            stats.contended();
            reschedule(d, contentionDelay(event.lockKey()), d.attempt());
            outcome(d, EventOutcome.Kind.LOCK_CONTENDED, d.attempt(), null, null, 0, null);
            return;
        }
        Lock lock = acquired.get();
        if (!contentions.isEmpty()) {
            contentions.remove(event.lockKey());
        }
        DefaultEventContext ctx = new DefaultEventContext(event, d.attempt(), lock.fencingToken(), id, e.clock(),
                deadline(), e.shuttingDown());
        LockWatchdog.Watch renewal = e.watchdog().watch(lock, ctx);
        try {
            if (consumer.isProcessed(event.eventId())) {
                consumer.ack(d);
                stats.duplicate();
                outcome(d, EventOutcome.Kind.DUPLICATE, d.attempt(), null, null, 0, null);
                return;
            }
            runAttempts(d, ctx);
        } finally {
            renewal.cancel();
            try {
                lock.release();
            } catch (RuntimeException ex) {
                infraError("lock release failed (the lease will expire)", ex);
            }
        }
    }

    private void runAttempts(Delivery d, DefaultEventContext ctx) {
        int attempt = d.attempt();
        while (true) {
            if (ctx.isLeaseLost()) {
                leaseLost(d, attempt, 0);
                return;
            }
            ctx.attempt(attempt, deadline());
            MDC.put("attempt", Integer.toString(attempt));
            e.listeners().started(ctx);
            long t0 = System.nanoTime();
            Throwable failure = null;
            try {
                e.runtime().process(ctx);
            } catch (OutOfMemoryError oom) {
                throw oom;
            } catch (Throwable t) {
                failure = t;
            }
            long elapsed = System.nanoTime() - t0;
            e.latency().record(elapsed);
            if (ctx.isLeaseLost()) {
                leaseLost(d, attempt, elapsed);
                return;
            }
            if (failure == null) {
                consumer.complete(d);
                stats.succeeded();
                outcome(d, EventOutcome.Kind.SUCCEEDED, attempt, null, null, elapsed, null);
                return;
            }
            if (isInterruption(failure, ctx)) {
                // Shutdown, not the event's fault: hand it back without counting an attempt.
                if (failure instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                consumer.release(List.of(d));
                outcome(d, EventOutcome.Kind.RELEASED, attempt, null, failure, elapsed, null);
                return;
            }
            ErrorCategory category = e.classification().classify(failure);
            String message = message(failure);
            stats.failed(message);
            if (category == ErrorCategory.PERMANENT) {
                deadLetter(d, category, message, failure, attempt, elapsed);
                return;
            }
            if (attempt > e.config().maxRetries()) {
                deadLetter(d, category, "retries exhausted after " + attempt + " attempts: " + message, failure,
                        attempt, elapsed);
                return;
            }
            stats.retried();
            if (category == ErrorCategory.TRANSIENT) {
                Duration pause = e.transientPause().delay(attempt);
                outcome(d, EventOutcome.Kind.RETRYING, attempt, category, failure, elapsed, null);
                log.debug("transient failure on attempt {}; retrying in {} ms: {}", attempt, pause.toMillis(), message);
                try {
                    Thread.sleep(pause.toMillis(), pause.toNanosPart() % 1_000_000);
                } catch (InterruptedException ie) {
                    // Interrupted by shutdown: hand the event back rather than spend a retry on it.
                    Thread.currentThread().interrupt();
                    consumer.release(List.of(d));
                    outcome(d, EventOutcome.Kind.RELEASED, attempt, category, failure, elapsed, null);
                    return;
                }
                attempt++;
                continue;
            }
            Duration delay = failure instanceof RecoverableWorkflowException rwe && rwe.retryAfter().isPresent()
                    ? rwe.retryAfter().get() : e.retryBackoff().delay(attempt);
            Instant due = e.clock().instant().plus(delay);
            consumer.reschedule(d, due, attempt + 1);
            log.debug("recoverable failure on attempt {}; retry at {}: {}", attempt, due, message);
            outcome(d, EventOutcome.Kind.RETRY_SCHEDULED, attempt, category, failure, elapsed, due);
            return;
        }
    }

    private static boolean isInterruption(Throwable failure, DefaultEventContext ctx) {
        if (failure instanceof InterruptedException) {
            return true;
        }
        return failure instanceof EventContext.CancelledException && ctx.isShuttingDown();
    }

    private void leaseLost(Delivery d, int attempt, long elapsed) {
        // Another holder may be running this key now; our result must not count as success.
        stats.leaseLost();
        log.warn("lease lost while processing event {}; result discarded, event redelivered", d.eventId());
        reschedule(d, e.config().lockContentionDelay(), attempt);
        outcome(d, EventOutcome.Kind.LEASE_LOST, attempt, null, null, elapsed, null);
    }

    /**
     * The wait before an event whose lock was busy comes back. It doubles with each consecutive
     * contention on the key (with jitter), up to half the lock TTL: events queued behind a long
     * handler would otherwise bounce through the transport every few milliseconds.
     */
    private Duration contentionDelay(String lockKey) {
        if (contentions.size() > MAX_TRACKED_CONTENTIONS) {
            contentions.clear();
        }
        int n = contentions.merge(lockKey, 1, Integer::sum);
        long base = e.config().lockContentionDelay().toNanos();
        long cap = Math.max(base, e.config().lockTtl().toNanos() / 2);
        long delay = Math.min(cap, base << Math.min(n - 1, 20));
        return Duration.ofNanos((long) (delay * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    private void reschedule(Delivery d, Duration delay, int attempt) {
        consumer.reschedule(d, e.clock().instant().plus(delay), attempt);
    }

    private void deadLetter(Delivery d, ErrorCategory category, String message, Throwable failure, int attempts,
                            Long elapsed) {
        consumer.deadLetter(d, new DeadLetter(category, message, stack(failure), attempts, id, e.clock().instant()));
        stats.deadLettered();
        log.warn("event {} dead-lettered ({}, {} attempts): {}", d.eventId(), category, attempts, message);
        outcome(d, EventOutcome.Kind.DEAD_LETTERED, Math.max(1, attempts), category, failure,
                elapsed == null ? 0 : elapsed, null);
    }

    private void handBack(Delivery d) {
        try {
            consumer.release(List.of(d));
        } catch (RuntimeException ex) {
            infraError("handing back entry " + d.id() + " failed; it will be reclaimed", ex);
        }
    }

    private Instant deadline() {
        return e.clock().instant().plus(e.config().eventTimeout());
    }

    private void outcome(Delivery d, EventOutcome.Kind kind, int attempt, ErrorCategory category, Throwable error,
                         long elapsedNanos, Instant retryAt) {
        e.listeners().outcome(new EventOutcome(id, d.id(), d.event(), kind, attempt, category, error,
                Duration.ofNanos(elapsedNanos), retryAt));
    }

    private void infraError(String what, RuntimeException ex) {
        stats.infraError(e.clock().millis(), what + ": " + ex);
        log.warn("worker {}: {}: {}", id, what, ex.toString());
        log.debug("worker {}: {}", id, what, ex);
    }

    private void crash(Throwable t) {
        crashReason = t.toString();
        state = "crashed";
        stopRequested = true;
        log.error("worker {} crashed; the health monitor will replace it", id, t);
        e.listeners().workerState(id, state);
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }

    private static String stack(Throwable t) {
        if (t == null) {
            return "";
        }
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String s = sw.toString();
        return s.length() <= MAX_STACK_CHARS ? s : s.substring(0, MAX_STACK_CHARS) + "\n\t...";
    }

    private void putMdc(Delivery d) {
        MDC.put("workerId", id);
        MDC.put("attempt", Integer.toString(d.attempt()));
        String eventId = d.eventId();
        if (eventId != null) {
            MDC.put("eventId", eventId);
        }
        if (d.event() != null) {
            MDC.put("eventType", d.event().eventType());
            if (d.event().executionId() != null) {
                MDC.put("executionId", d.event().executionId());
            }
        }
    }

    private static void clearMdc() {
        MDC.remove("workerId");
        MDC.remove("attempt");
        MDC.remove("eventId");
        MDC.remove("eventType");
        MDC.remove("executionId");
    }

    // ---------------------------------------------------------------- lifecycle and health

    /**
     * Pauses or resumes reading. In-flight events go on; stalled-work maintenance keeps running
     * so the worker's pending entries stay fresh.
     *
     * @param pause true to pause
     */
    public void paused(boolean pause) {
        synchronized (pauseMonitor) {
            paused = pause;
            pauseMonitor.notifyAll();
        }
        if ("running".equals(state) || "paused".equals(state)) {
            state = pause ? "paused" : "running";
            e.listeners().workerState(id, state);
        }
    }

    /** Stops reading; in-flight events go on. Non-blocking, idempotent. */
    public void stopReading() {
        stopRequested = true;
        synchronized (pauseMonitor) {
            pauseMonitor.notifyAll();
        }
        if ("running".equals(state) || "paused".equals(state)) {
            state = "stopping";
            e.listeners().workerState(id, state);
        }
    }

    /** Stops reading and interrupts the loop: used to replace a stuck or crashed worker. */
    public void retire() {
        stopReading();
        loopThread.interrupt();
    }

    /**
     * Waits until the loop has exited and no event is in flight.
     *
     * @param deadlineNanos {@link System#nanoTime()} deadline
     * @return true if drained before the deadline
     */
    public boolean awaitDrained(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.timedJoin(loopThread, left);
        }
        synchronized (drainMonitor) {
            while (!inFlight.isEmpty()) {
                left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(drainMonitor, left);
            }
        }
        return !loopThread.isAlive();
    }

    /** @return true when the loop has exited and nothing is in flight */
    public boolean isDrained() {
        return !loopThread.isAlive() && inFlight.isEmpty();
    }

    /**
     * Interrupts handlers still running and hands their deliveries back for immediate
     * redelivery. Their late results are harmless: a late success writes the processed marker,
     * so the redelivery is acknowledged as a duplicate.
     */
    public void abandonInFlight() {
        loopThread.interrupt();
        List<Delivery> left = new ArrayList<>();
        for (InFlight f : inFlight.values()) {
            left.add(f.delivery);
            Thread t = f.thread;
            if (t != null) {
                t.interrupt();
            }
        }
        if (!left.isEmpty()) {
            log.warn("worker {}: {} events did not finish before the shutdown deadline; handing them back", id,
                    left.size());
            try {
                consumer.release(left);
            } catch (RuntimeException ex) {
                infraError("handing back unfinished entries failed; they will be reclaimed", ex);
            }
        }
    }

    /** Releases the consumer and the handler pool. */
    public void close() {
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
        try {
            consumer.close();
        } catch (RuntimeException ex) {
            log.debug("closing consumer of worker {} failed", id, ex);
        }
        if (!"crashed".equals(state)) {
            state = "stopped";
        }
        e.listeners().workerState(id, state);
    }

    /**
     * @param nowMillis clock time
     * @param t         thresholds
     * @return this worker's health
     */
    public WorkerHealth health(long nowMillis, HealthRules.Thresholds t) {
        HealthRules.Verdict v = HealthRules.worker(state, crashReason, stats, nowMillis, t);
        return new WorkerHealth(id, v.status(), state, v.reason(), stats.processed(), stats.succeededCount(),
                stats.failedCount(), stats.active(), Instant.ofEpochMilli(stats.heartbeatMillis()), stats.lastError());
    }

    /** @return true if the health rules call this worker unhealthy */
    public boolean isUnhealthy(long nowMillis, HealthRules.Thresholds t) {
        return HealthRules.worker(state, crashReason, stats, nowMillis, t).status() == HealthStatus.UNHEALTHY;
    }
}
