package dev.workflowworker.core.internal;

import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs one delivery on a handler thread: its attempts under the lock, in-place transient retries,
 * then the outcome. A success is handed to the {@link Settler}, which then owns the slot and the
 * lock; every other outcome is settled here, after the lock is released.
 */
final class DeliveryRunner {

    private static final Logger log = LoggerFactory.getLogger(DeliveryRunner.class);

    private final String workerId;
    private final Engine e;
    private final RetryPolicy policy;
    private final Settlement settlement;
    private final Settler settler;
    private final Slots slots;
    private final Consumer<Throwable> crash;
    private final WorkerStats stats;

    DeliveryRunner(String workerId, WorkerStats stats, Engine engine, RetryPolicy policy, Settlement settlement, Settler settler,
                   Slots slots, Consumer<Throwable> crash) {
        this.workerId = workerId;
        this.stats = stats;
        this.e = engine;
        this.policy = policy;
        this.settlement = settlement;
        this.settler = settler;
        this.slots = slots;
        this.crash = crash;
    }

    void process(InFlight f) {
        f.thread = Thread.currentThread();
        Delivery d = f.delivery;
        Mdc.put(workerId, d);
        boolean handedToSettler = false;
        try {
            Runnable outcome;
            if (d.isMalformed()) {
                stats.failed(d.decodeError());
                // No exception was thrown: the decoder's reason (error_message) is the whole story,
                // and a stack trace of the decoder would say nothing about the entry.
                outcome = () -> settlement.deadLetter(d, ErrorCategory.PERMANENT, d.decodeError(), null, 0, 0);
            } else {
                // Started at the acquisition for now: each attempt restarts the deadline when it begins.
                DefaultEventContext ctx = new DefaultEventContext(d.event(), d.attempt(), f.lock.fencingToken(),
                        workerId, e.time(), f.acquireSentAtNanos, e.config().eventTimeout(), e.shuttingDown());
                ctx.lock(f.lock::validUntilMillis);
                f.context = ctx;
                f.watch = e.watchdog().watch(f.lock, ctx, f.acquireSentAtNanos);
                outcome = runAttempts(f, ctx);
                handedToSettler = outcome == null;
            }
            if (outcome != null) {
                // The lock goes first: an outcome that makes the key's next event ready (the ordered
                // transports' dead letter, retry and hand-back) would otherwise let it meet this lock
                // still held and wait a contention delay for nothing. No outcome but a success
                // writes a marker the lock's next holder must see (docs/ARCHITECTURE.md, "Lock providers").
                letGo(f);
                outcome.run();
            }
        } catch (OutOfMemoryError oom) {
            // The entry stays pending and is reclaimed; a worker that ran out of memory is replaced.
            crash.accept(oom);
        } catch (RuntimeException ex) {
            settlement.infraError("settling entry " + d.id() + " failed; it stays pending and will be reclaimed", ex);
        } finally {
            f.thread = null;
            Mdc.clear();
            if (!handedToSettler) {
                letGo(f);
                slots.finish(f);
            }
        }
    }

    /** Stops renewing the delivery's lock and releases it, once. */
    private void letGo(InFlight f) {
        if (f.watch != null) {
            f.watch.cancel();
        }
        Lock held = f.lock;
        if (held != null) {
            f.lock = null;
            settlement.releaseLocks(List.of(held));
        }
    }

    /**
     * {@return how to settle the delivery once its lock is released; null when the success was
     * queued for the settler, which then owns the lock}
     */
    private Runnable runAttempts(InFlight f, DefaultEventContext ctx) {
        Delivery d = f.delivery;
        int attempt = d.attempt();
        while (true) {
            // One clock read serves the lease check, the attempt's deadline and its timing.
            long t0 = e.time().nanoTime();
            int at = attempt;
            if (ctx.isLeaseLost(t0)) {
                return () -> settlement.leaseLost(d, at, 0);
            }
            ctx.attempt(attempt, t0);
            if (attempt != d.attempt()) {
                // The first attempt's number is in the MDC since Mdc.put.
                MDC.put(Mdc.ATTEMPT, Mdc.attempt(attempt));
            }
            e.listeners().started(ctx);
            Throwable failure = null;
            try {
                e.runtime().process(ctx);
            } catch (OutOfMemoryError oom) {
                throw oom;
            } catch (Throwable t) {
                failure = t;
            }
            long t1 = e.time().nanoTime();
            long elapsed = t1 - t0;
            e.latency().record(elapsed);
            if (ctx.isLeaseLost(t1)) {
                return () -> settlement.leaseLost(d, at, elapsed);
            }
            if (failure == null) {
                f.attempt = attempt;
                f.elapsedNanos = elapsed;
                f.succeeded = true;
                settler.add(f, t1);
                return null;
            }
            Throwable failed = failure;
            if (isInterruption(failure, ctx)) {
                // Shutdown, not the event's fault: hand it back without counting an attempt.
                if (failure instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                return () -> settlement.released(d, at, null, failed, elapsed);
            }
            ErrorCategory category = e.classification().classify(failure);
            String message = Settlement.message(failure);
            stats.failed(message);
            Optional<Duration> retryAfter = failure instanceof RecoverableWorkflowException rwe
                    ? rwe.retryAfter() : Optional.empty();
            RetryPolicy.Decision decision = policy.decide(category, attempt, message, retryAfter);
            if (decision instanceof RetryPolicy.DeadLetter dl) {
                return () -> settlement.deadLetter(d, category, dl.reason(), failed, at, elapsed);
            }
            stats.retried();
            if (decision instanceof RetryPolicy.RetryInPlace now) {
                settlement.outcome(d, EventOutcome.Kind.RETRYING, attempt, category, failure, elapsed, null);
                log.debug("transient failure on attempt {}; retrying in {} ms: {}", attempt, now.pause().toMillis(),
                        message);
                try {
                    Thread.sleep(now.pause().toMillis(), now.pause().toNanosPart() % 1_000_000);
                } catch (InterruptedException ie) {
                    // Interrupted by shutdown: hand the event back rather than spend a retry on it.
                    Thread.currentThread().interrupt();
                    return () -> settlement.released(d, at, category, failed, elapsed);
                }
                attempt++;
                continue;
            }
            RetryPolicy.RetryLater later = (RetryPolicy.RetryLater) decision;
            return () -> {
                Instant due = settlement.retryAfter(d, later.delay(), at + 1);
                log.debug("recoverable failure on attempt {}; retry at {}: {}", at, due, message);
                settlement.outcome(d, EventOutcome.Kind.RETRY_SCHEDULED, at, category, failed, elapsed, due);
            };
        }
    }

    private static boolean isInterruption(Throwable failure, DefaultEventContext ctx) {
        if (failure instanceof InterruptedException) {
            return true;
        }
        return failure instanceof EventContext.CancelledException && ctx.isShuttingDown();
    }
}
