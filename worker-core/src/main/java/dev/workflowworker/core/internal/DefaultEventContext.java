package dev.workflowworker.core.internal;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;

import java.time.Instant;
import java.util.function.BooleanSupplier;

/** The engine's {@link EventContext}: one per delivery, shared by its in-place retries. */
public final class DefaultEventContext implements EventContext {

    private final WorkflowEvent event;
    private final long fencingToken;
    private final String workerId;
    private final TimeSource time;
    private final BooleanSupplier shuttingDown;
    private volatile int attempt;
    private volatile Instant deadline;
    private volatile boolean leaseLost;
    /**
     * Until when the lease is surely ours, on the monotonic clock: from the send time of the last
     * good acquire or renewal, plus the TTL, less a margin. Monotonic because the store counts the
     * TTL on its own clock: a step of this host's wall clock changes nothing there, and must not
     * make a held lease look expired (or an expired one look held). Meaningless until {@link #leaseTimed}.
     */
    private volatile long leaseValidUntilNanos;
    private volatile boolean leaseTimed;
    /** The lock's own idea of when it expires ({@code Lock#validUntilMillis}); none until {@link #lock} is called. */
    private volatile java.util.function.LongSupplier lockValidUntil = () -> Long.MAX_VALUE;

    public DefaultEventContext(WorkflowEvent event, int attempt, long fencingToken, String workerId, TimeSource time,
                               Instant deadline, BooleanSupplier shuttingDown) {
        this.event = event;
        this.attempt = attempt;
        this.fencingToken = fencingToken;
        this.workerId = workerId;
        this.time = time;
        this.deadline = deadline;
        this.shuttingDown = shuttingDown;
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

    void attempt(int attempt, Instant deadline) {
        this.attempt = attempt;
        this.deadline = deadline;
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
        return isLeaseLost() || shuttingDown.getAsBoolean() || time.instant().isAfter(deadline);
    }

    @Override
    public Instant deadline() {
        return deadline;
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
        return leaseLost || (leaseTimed && time.nanoTime() - leaseValidUntilNanos >= 0)
                || time.wallMillis() >= lockValidUntil.getAsLong();
    }

    /**
     * Lets the context ask the lock when it expires, for a lock that knows (a partition's lease):
     * after a pause of the process the handler then sees the loss at its next check.
     *
     * @param validUntil the lock's {@code validUntilMillis}
     */
    public void lock(java.util.function.LongSupplier validUntil) {
        this.lockValidUntil = validUntil;
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
