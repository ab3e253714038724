package dev.workflowworker.core.internal;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/** The engine's {@link EventContext}: one per delivery, shared by its in-place retries. */
public final class DefaultEventContext implements EventContext {

    private final WorkflowEvent event;
    private final long fencingToken;
    private final String workerId;
    private final TimeSource time;
    private final BooleanSupplier shuttingDown;
    private volatile int attempt;
    /**
     * The attempt's timeout, in nanoseconds; {@link Long#MAX_VALUE} for none. The deadline is kept on
     * the monotonic clock, as the lease is: a forward step of the wall clock longer than the timeout
     * must not cancel every running handler, nor a backward one keep a hung handler going.
     */
    private final long timeoutNanos;
    /** {@link TimeSource#nanoTime()} at which the current attempt's time is up; see {@link #timeoutNanos}. */
    private volatile long deadlineNanos;
    private volatile boolean leaseLost;
    /**
     * Until when the lease is surely ours, on the monotonic clock: from the send time of the last
     * good acquire or renewal, plus the TTL, less a margin. Monotonic because the store counts the
     * TTL on its own clock: a step of this host's wall clock changes nothing there, and must not
     * make a held lease look expired (or an expired one look held). Meaningless until {@link #leaseTimed}.
     */
    private volatile long leaseValidUntilNanos;
    private volatile boolean leaseTimed;
    /** The lock's own idea of when it expires ({@code Lock#validUntilMillis}); null until {@link #lock} is called. */
    private volatile LongSupplier lockValidUntil;
    /**
     * Until when, on the monotonic clock, the lock last said it holds: asking it again before then
     * would only read the clocks again (two or three reads per check, a few checks per event). Its
     * expiry only moves later while it holds; a lock that learns it is lost says so through
     * {@code Lock#onLost}, which sets {@link #leaseLost}.
     */
    private volatile long lockKnownUntilNanos;
    private volatile boolean lockKnown;

    /**
     * @param startNanos {@link TimeSource#nanoTime()} at which the first attempt starts
     * @param timeout    how long each attempt may run; a duration beyond the monotonic clock's range means none
     */
    public DefaultEventContext(WorkflowEvent event, int attempt, long fencingToken, String workerId, TimeSource time,
                               long startNanos, Duration timeout, BooleanSupplier shuttingDown) {
        this.event = event;
        this.attempt = attempt;
        this.fencingToken = fencingToken;
        this.workerId = workerId;
        this.time = time;
        this.timeoutNanos = saturatedNanos(timeout);
        this.deadlineNanos = startNanos + timeoutNanos;
        this.shuttingDown = shuttingDown;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public WorkflowEvent event() {
        return event;
    }

    @Override
    public <T> T payloadAs(Class<T> type) {
        try {
            return WireCodec.mapper().convertValue(event.payload(), type);
        } catch (IllegalArgumentException e) {
            throw new PermanentWorkflowException("payload of event " + event.eventId() + " does not match "
                    + type.getSimpleName() + ": " + WireCodec.clip(e.getMessage()), e);
        }
    }

    @Override
    public int attempt() {
        return attempt;
    }

    /** Starts attempt {@code attempt}, whose time is counted from {@code startNanos}. */
    void attempt(int attempt, long startNanos) {
        this.attempt = attempt;
        this.deadlineNanos = startNanos + timeoutNanos;
    }

    @Override
    public long fencingToken() {
        return fencingToken;
    }

    @Override
    public String workerId() {
        return workerId;
    }

    @Override
    public boolean isCancelled() {
        long now = time.nanoTime();
        return isLeaseLost(now) || shuttingDown.getAsBoolean()
                || (timeoutNanos != Long.MAX_VALUE && now - deadlineNanos > 0);
    }

    /**
     * {@inheritDoc} Derived from the monotonic deadline when asked, so it is the wall time at
     * which the attempt's time runs out as the wall clock reads now.
     */
    @Override
    public Instant deadline() {
        if (timeoutNanos == Long.MAX_VALUE) {
            return Instant.MAX;
        }
        return time.instant().plusNanos(deadlineNanos - time.nanoTime());
    }

    /** Called by the lock watchdog when renewal fails. */
    public void leaseLost() {
        leaseLost = true;
    }

    /**
     * @return true once the lease on the lock key was lost, or may have expired because no renewal
     *     succeeded in time (a renewal blocked on a dead connection must not keep the handler going)
     */
    public boolean isLeaseLost() {
        return isLeaseLost(time.nanoTime());
    }

    /**
     * {@link #isLeaseLost()} at a time the caller has just read, so that the checks around one
     * attempt cost no clock reads of their own.
     *
     * @param nowNanos {@link TimeSource#nanoTime()}, read just now
     * @return as {@link #isLeaseLost()}
     */
    public boolean isLeaseLost(long nowNanos) {
        return leaseLost || (leaseTimed && nowNanos - leaseValidUntilNanos >= 0) || lockExpired(nowNanos);
    }

    private boolean lockExpired(long nowNanos) {
        LongSupplier validUntil = lockValidUntil;
        if (validUntil == null || (lockKnown && nowNanos - lockKnownUntilNanos < 0)) {
            return false;
        }
        long until = validUntil.getAsLong();
        if (until == Long.MAX_VALUE) {
            lockValidUntil = null;
            return false;
        }
        long left = until - time.wallMillis();
        if (left <= 0) {
            return true;
        }
        // The time left, not the wall time, is carried over: a step of the wall clock in between
        // changes the one as much as the other, so it cancels out here.
        lockKnownUntilNanos = nowNanos + Math.min(left, Long.MAX_VALUE / 2_000_000) * 1_000_000;
        lockKnown = true;
        return false;
    }

    /**
     * Lets the context ask the lock when it expires, for a lock that knows (a partition's lease):
     * after a pause of the process the handler then sees the loss at its next check.
     *
     * @param validUntil the lock's {@code validUntilMillis}
     */
    public void lock(LongSupplier validUntil) {
        this.lockValidUntil = validUntil;
        this.lockKnown = false;
    }

    /**
     * Records a successful acquisition or renewal.
     *
     * @param validUntilNanos {@link dev.workflowworker.core.TimeSource#nanoTime()} until which the lease surely holds
     */
    public void leaseValidUntilNanos(long validUntilNanos) {
        this.leaseValidUntilNanos = validUntilNanos;
        this.leaseTimed = true;
    }

    /** @return true if the service is shutting down */
    public boolean isShuttingDown() {
        return shuttingDown.getAsBoolean();
    }
}
