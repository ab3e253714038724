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
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
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
    private static final int MAX_SETTLE_BATCH = 256;
    private static final long MAX_CONTENTION_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final String id;
    private final int index;
    private final Engine e;
    private final EventTransport.Consumer consumer;
    private final WorkerStats stats;
    private final Semaphore permits;
    private final int limit;
    private final int minBatch;
    private final HandlerPool ownExecutor;
    private final Executor executor;
    private final ConcurrentHashMap<String, InFlight> inFlight = new ConcurrentHashMap<>();
    /** Consecutive lock contentions per key, for backing off; bounded by clearing when large. */
    private final ConcurrentHashMap<String, Integer> contentions = new ConcurrentHashMap<>();
    private final Object drainMonitor = new Object();
    private final Thread loopThread;
    private final Thread settlerThread;
    private final LinkedBlockingQueue<InFlight> settling = new LinkedBlockingQueue<>();
    private volatile boolean settlerStop;
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
        Lock lock;
        long acquireSentAt;
        DefaultEventContext ctx;
        LockWatchdog.Watch watch;
        int attempt;
        long elapsedNanos;

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
        this.minBatch = Math.max(1, Math.min(engine.config().batchSize(), limit / 4));
        if (engine.executor() != null) {
            this.ownExecutor = null;
            this.executor = engine.executor();
        } else {
            AtomicInteger n = new AtomicInteger();
            this.ownExecutor = new HandlerPool(limit,
                    r -> newThread(r, "workflow-worker-" + index + "-exec-" + n.incrementAndGet()));
            this.executor = ownExecutor;
        }
        this.loopThread = newThread(this::runLoop, "workflow-worker-" + index);
        this.settlerThread = newThread(this::runSettler, "workflow-worker-" + index + "-settle");
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
        settlerThread.start();
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
                // Saturated, a slot frees one at a time and every read would fetch one event,
                // paying a round trip per event for the read, the locks and the markers. Lingering
                // a moment for a quarter of the slots trades that for batches; when idle all slots
                // are free and nothing waits.
                long lingerEnd = System.nanoTime() + LINGER_NANOS;
                while (granted < minBatch) {
                    long left = lingerEnd - System.nanoTime();
                    if (left <= 0 || !permits.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                        break;
                    }
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
        if (batch.isEmpty()) {
            return;
        }
        // A poll that was blocked when pause() or shutdown began must not start new handlers.
        if (stopRequested || paused) {
            for (Delivery d : batch) {
                handBack(d);
            }
            permits.release(batch.size());
            return;
        }
        List<Delivery> events = new ArrayList<>(batch.size());
        for (Delivery d : batch) {
            if (d.isMalformed()) {
                submit(new InFlight(d));
            } else {
                events.add(d);
            }
        }
        if (!events.isEmpty()) {
            lockAndSubmit(events);
        }
    }

    /**
     * Takes the batch's locks and checks its processed markers, in one call for the whole batch
     * where the transport allows, and starts a handler for every event that is neither contended
     * nor already completed. Runs on the loop thread and never throws.
     */
    private void lockAndSubmit(List<Delivery> events) {
        long sentAt = e.clock().millis();
        List<EventTransport.Claim> claims;
        try {
            claims = consumer.claim(events, e.locks(), e.config().lockTtl());
        } catch (RuntimeException ex) {
            infraError("lock acquisition failed", ex);
            for (Delivery d : events) {
                rescheduleQuietly(d, e.config().lockContentionDelay(), d.attempt());
            }
            permits.release(events.size());
            return;
        }
        List<InFlight> duplicates = null;
        for (int i = 0; i < events.size(); i++) {
            Delivery d = events.get(i);
            EventTransport.Claim claim = claims.get(i);
            InFlight f = new InFlight(d);
            f.lock = claim.lock().orElse(null);
            if (claim.processed()) {
                if (duplicates == null) {
                    duplicates = new ArrayList<>();
                }
                duplicates.add(f);
                continue;
            }
            String key = d.event().lockKey();
            if (f.lock == null) {
                stats.contended();
                rescheduleQuietly(d, contentionDelay(key), d.attempt());
                outcome(d, EventOutcome.Kind.LOCK_CONTENDED, d.attempt(), null, null, 0, null);
                permits.release();
                continue;
            }
            if (!contentions.isEmpty()) {
                contentions.remove(key);
            }
            f.acquireSentAt = sentAt;
            submit(f);
        }
        if (duplicates != null) {
            for (InFlight f : duplicates) {
                try {
                    consumer.ack(f.delivery);
                    stats.duplicate();
                    outcome(f.delivery, EventOutcome.Kind.DUPLICATE, f.delivery.attempt(), null, null, 0, null);
                } catch (RuntimeException ex) {
                    infraError("acknowledging duplicate " + f.delivery.id() + " failed; it stays pending", ex);
                }
            }
            releaseLocks(duplicates);
            permits.release(duplicates.size());
        }
    }

    private void submit(InFlight f) {
        inFlight.put(f.delivery.id(), f);
        stats.activated(e.clock().millis(), limit);
        try {
            executor.execute(() -> process(f));
        } catch (RejectedExecutionException ex) {
            if (f.lock != null) {
                releaseLocks(List.of(f));
            }
            handBack(f.delivery);
            finish(f);
        }
    }

    private void releaseLocks(List<InFlight> fs) {
        List<Lock> held = new ArrayList<>(fs.size());
        for (InFlight f : fs) {
            if (f.lock != null) {
                held.add(f.lock);
            }
        }
        try {
            e.locks().releaseAll(held);
        } catch (RuntimeException ex) {
            infraError("lock release failed (the leases will expire)", ex);
        }
    }

    /** Frees the handler slot of a delivery that is settled (or left pending for reclaim). */
    private void finish(InFlight f) {
        inFlight.remove(f.delivery.id());
        stats.deactivated(limit);
        permits.release();
        if (stopRequested && inFlight.isEmpty()) {
            synchronized (drainMonitor) {
                drainMonitor.notifyAll();
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
        boolean settling = false;
        try {
            if (d.isMalformed()) {
                stats.failed(d.decodeError());
                deadLetter(d, ErrorCategory.PERMANENT, d.decodeError(), null, 0, null);
            } else {
                DefaultEventContext ctx = new DefaultEventContext(d.event(), d.attempt(), f.lock.fencingToken(), id,
                        e.clock(), deadline(), e.shuttingDown());
                f.ctx = ctx;
                f.watch = e.watchdog().watch(f.lock, ctx, f.acquireSentAt);
                settling = runAttempts(f, ctx);
            }
        } catch (OutOfMemoryError oom) {
            // The entry stays pending and is reclaimed; a worker that ran out of memory is replaced.
            crash(oom);
        } catch (RuntimeException ex) {
            infraError("settling entry " + d.id() + " failed; it stays pending and will be reclaimed", ex);
        } finally {
            f.thread = null;
            clearMdc();
            if (!settling) {
                if (f.watch != null) {
                    f.watch.cancel();
                }
                if (f.lock != null) {
                    releaseLocks(List.of(f));
                }
                finish(f);
            }
        }
    }

    // ---------------------------------------------------------------- group commit of successes

    /**
     * Acknowledges successes in batches: handlers that finish while a batch is being written
     * queue up and go together in the next call, so the transport sees one round trip per batch
     * rather than one per event, without adding latency when load is low.
     */
    private void runSettler() {
        List<InFlight> batch = new ArrayList<>();
        while (true) {
            InFlight first;
            try {
                first = settling.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                first = settling.poll();
            }
            if (first == null) {
                if (settlerStop) {
                    return;
                }
                continue;
            }
            batch.clear();
            batch.add(first);
            settling.drainTo(batch, MAX_SETTLE_BATCH - 1);
            try {
                settle(batch);
            } catch (RuntimeException ex) {
                infraError("settling a batch failed unexpectedly", ex);
            }
        }
    }

    private void settle(List<InFlight> batch) {
        List<InFlight> ok = new ArrayList<>(batch.size());
        for (InFlight f : batch) {
            // The lease may have gone while the success waited in the queue: refuse it then too.
            if (f.ctx.isLeaseLost()) {
                try {
                    leaseLost(f.delivery, f.attempt, f.elapsedNanos);
                } catch (RuntimeException ex) {
                    infraError("rescheduling entry " + f.delivery.id() + " failed; it will be reclaimed", ex);
                }
                f.watch.cancel();
                releaseLocks(List.of(f));
                finish(f);
            } else {
                ok.add(f);
            }
        }
        if (ok.isEmpty()) {
            return;
        }
        List<Delivery> deliveries = new ArrayList<>(ok.size());
        List<Lock> held = new ArrayList<>(ok.size());
        for (InFlight f : ok) {
            deliveries.add(f.delivery);
            held.add(f.lock);
        }
        // Renewals stop before the release: a renewal racing it would find the lock gone and
        // report a lost lease for an event that completed.
        for (InFlight f : ok) {
            f.watch.cancel();
        }
        List<Delivery> refused;
        boolean completed;
        try {
            refused = consumer.completeAndRelease(deliveries, held, e.locks());
            completed = true;
        } catch (RuntimeException ex) {
            refused = List.of();
            completed = false;
            infraError("settling " + ok.size() + " entries failed; they stay pending and will be reclaimed", ex);
        }
        Set<Delivery> lost = Collections.newSetFromMap(new IdentityHashMap<>());
        lost.addAll(refused);
        for (InFlight f : ok) {
            if (lost.contains(f.delivery)) {
                // The store saw the lock gone at commit time: another holder may run this key now.
                try {
                    leaseLost(f.delivery, f.attempt, f.elapsedNanos);
                } catch (RuntimeException ex) {
                    infraError("rescheduling entry " + f.delivery.id() + " failed; it will be reclaimed", ex);
                }
            } else if (completed) {
                stats.succeeded();
                outcome(f.delivery, EventOutcome.Kind.SUCCEEDED, f.attempt, null, null, f.elapsedNanos, null);
            }
            finish(f);
        }
    }

    /** @return true when the success was queued for the settler, which then owns the slot and lock */
    private boolean runAttempts(InFlight f, DefaultEventContext ctx) {
        Delivery d = f.delivery;
        int attempt = d.attempt();
        while (true) {
            if (ctx.isLeaseLost()) {
                leaseLost(d, attempt, 0);
                return false;
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
                return false;
            }
            if (failure == null) {
                f.attempt = attempt;
                f.elapsedNanos = elapsed;
                settling.add(f);
                return true;
            }
            if (isInterruption(failure, ctx)) {
                // Shutdown, not the event's fault: hand it back without counting an attempt.
                if (failure instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                consumer.release(List.of(d));
                outcome(d, EventOutcome.Kind.RELEASED, attempt, null, failure, elapsed, null);
                return false;
            }
            ErrorCategory category = e.classification().classify(failure);
            String message = message(failure);
            stats.failed(message);
            if (category == ErrorCategory.PERMANENT) {
                deadLetter(d, category, message, failure, attempt, elapsed);
                return false;
            }
            if (attempt > e.config().maxRetries()) {
                deadLetter(d, category, "retries exhausted after " + attempt + " attempts: " + message, failure,
                        attempt, elapsed);
                return false;
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
                    return false;
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
            return false;
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
     * contention on the key (with jitter), up to a second or half the lock TTL: events queued behind a long
     * handler would otherwise bounce through the transport every few milliseconds.
     */
    private Duration contentionDelay(String lockKey) {
        if (contentions.size() > MAX_TRACKED_CONTENTIONS) {
            contentions.clear();
        }
        int n = contentions.merge(lockKey, 1, Integer::sum);
        long base = e.config().lockContentionDelay().toNanos();
        // Capped at a second: a holder usually finishes within milliseconds, and a long wait
        // here is latency for every event queued behind the key.
        long cap = Math.max(base, Math.min(MAX_CONTENTION_DELAY_NANOS, e.config().lockTtl().toNanos() / 2));
        long delay = Math.min(cap, base << Math.min(n - 1, 20));
        return Duration.ofNanos((long) (delay * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    private void rescheduleQuietly(Delivery d, Duration delay, int attempt) {
        try {
            reschedule(d, delay, attempt);
        } catch (RuntimeException ex) {
            infraError("rescheduling entry " + d.id() + " failed; it will be reclaimed", ex);
        }
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
        settlerStop = true;
        try {
            // What is still queued settles first: those handlers succeeded.
            settlerThread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
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
