package dev.workflowworker.core.internal;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * Settles deliveries that did not succeed (retry, dead letter, lost lease, hand-back) on one
 * worker's consumer, and reports each outcome to the counters, the log and the listeners. Success
 * is the {@link Settler}'s job.
 */
final class Settlement {

    private static final Logger log = LoggerFactory.getLogger(Settlement.class);
    private static final int MAX_STACK_CHARS = 8192;

    private final String workerId;
    private final EventTransport.Consumer consumer;
    private final WorkerStats stats;
    private final Listeners listeners;
    private final TimeSource time;
    private final Duration redeliveryDelay;
    private final BatchLocking locking;

    Settlement(String workerId, EventTransport.Consumer consumer, BatchLocking locking, WorkerStats stats,
               Listeners listeners, TimeSource time, Duration redeliveryDelay) {
        this.workerId = workerId;
        this.consumer = consumer;
        this.locking = locking;
        this.stats = stats;
        this.listeners = listeners;
        this.time = time;
        this.redeliveryDelay = redeliveryDelay;
    }

    /** Schedules a redelivery; throws when the transport cannot be reached. */
    Instant retryAfter(Delivery d, Duration delay, int attempt) {
        Instant due = time.instant().plus(delay);
        consumer.retryAt(d, due, attempt);
        return due;
    }

    /** Like {@link #retryAfter} but a transport failure leaves the delivery pending for reclaim. */
    void retryQuietly(Delivery d, Duration delay, int attempt) {
        try {
            retryAfter(d, delay, attempt);
        } catch (RuntimeException ex) {
            infraError("rescheduling entry " + d.id() + " failed; it will be reclaimed", ex);
        }
    }

    void deadLetter(Delivery d, ErrorCategory category, String message, Throwable failure, int attempts,
                    long elapsedNanos) {
        try {
            consumer.deadLetter(d, new DeadLetter(category, message, stack(failure), attempts, workerId,
                    time.instant()));
        } catch (SettlementRefusedException ex) {
            // The lease passed on, or the partition was opened again, since the event was read: not
            // dead-lettered, it stays pending and runs again (as a refused success is, a lost lease).
            stats.leaseLost();
            log.warn("dead-lettering event {} refused, the lease is gone; it runs again: {}", d.eventId(),
                    ex.getMessage());
            outcome(d, EventOutcome.Kind.LEASE_LOST, Math.max(1, attempts), category, failure, elapsedNanos, null);
            return;
        }
        stats.deadLettered();
        log.warn("event {} dead-lettered ({}, {} attempts): {}", d.eventId(), category, attempts, message);
        outcome(d, EventOutcome.Kind.DEAD_LETTERED, Math.max(1, attempts), category, failure, elapsedNanos, null);
    }

    /** The lease went while the handler ran: another holder may run this key now, so the result does not count. */
    void leaseLost(Delivery d, int attempt, long elapsedNanos) {
        stats.leaseLost();
        log.warn("lease lost while processing event {}; result discarded, event redelivered", d.eventId());
        retryAfter(d, redeliveryDelay, attempt);
        outcome(d, EventOutcome.Kind.LEASE_LOST, attempt, null, null, elapsedNanos, null);
    }

    void leaseLostQuietly(Delivery d, int attempt, long elapsedNanos) {
        try {
            leaseLost(d, attempt, elapsedNanos);
        } catch (RuntimeException ex) {
            infraError("rescheduling entry " + d.id() + " failed; it will be reclaimed", ex);
        }
    }

    /** Hands a delivery back for immediate redelivery without counting the attempt (shutdown, not the event's fault). */
    void released(Delivery d, int attempt, ErrorCategory category, Throwable failure, long elapsedNanos) {
        consumer.release(List.of(d));
        outcome(d, EventOutcome.Kind.RELEASED, attempt, category, failure, elapsedNanos, null);
    }

    void handBack(Collection<Delivery> ds) {
        try {
            consumer.release(ds);
        } catch (RuntimeException ex) {
            infraError("handing back " + ds.size() + " entries failed; they will be reclaimed", ex);
        }
    }

    void releaseLocks(List<Lock> held) {
        try {
            locking.release(held);
        } catch (RuntimeException ex) {
            infraError("lock release failed (the leases will expire)", ex);
        }
    }

    void duplicate(Delivery d) {
        try {
            consumer.acknowledge(d);
            stats.duplicate();
            outcome(d, EventOutcome.Kind.DUPLICATE, d.attempt(), null, null, 0, null);
        } catch (SettlementRefusedException ex) {
            // The lease passed on (a rebalance): the entry stays pending and its next holder finds
            // it completed again. Not a transport failure, so health is not degraded by it.
            stats.leaseLost();
            log.debug("acknowledging duplicate {} refused, the lease is gone: {}", d.id(), ex.getMessage());
        } catch (RuntimeException ex) {
            infraError("acknowledging duplicate " + d.id() + " failed; it stays pending", ex);
        }
    }

    void contended(Delivery d, Duration delay) {
        stats.contended();
        retryQuietly(d, delay, d.attempt());
        outcome(d, EventOutcome.Kind.LOCK_CONTENDED, d.attempt(), null, null, 0, null);
    }

    void succeeded(InFlight f) {
        stats.succeeded();
        outcome(f.delivery, EventOutcome.Kind.SUCCEEDED, f.attempt, null, null, f.elapsedNanos, null);
    }

    void outcome(Delivery d, EventOutcome.Kind kind, int attempt, ErrorCategory category, Throwable error,
                 long elapsedNanos, Instant retryAt) {
        listeners.outcome(new EventOutcome(workerId, d.id(), d.event(), kind, attempt, category, error,
                Duration.ofNanos(elapsedNanos), retryAt));
    }

    void infraError(String what, RuntimeException ex) {
        stats.infraError(time.wallMillis(), what + ": " + ex);
        log.warn("worker {}: {}: {}", workerId, what, ex.toString());
        log.debug("worker {}: {}", workerId, what, ex);
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }

    static String stack(Throwable t) {
        if (t == null) {
            return "";
        }
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String s = sw.toString();
        return s.length() <= MAX_STACK_CHARS ? s : s.substring(0, MAX_STACK_CHARS) + "\n\t...";
    }
}
