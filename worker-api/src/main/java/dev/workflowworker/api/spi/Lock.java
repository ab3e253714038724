package dev.workflowworker.api.spi;

import java.time.Duration;

/**
 * A held lease on a lock key. The engine renews it from a dedicated scheduler while the handler
 * runs and releases it afterwards.
 */
public interface Lock extends AutoCloseable {

    /** {@return the lock key} */
    String key();

    /** {@return the fencing token, strictly increasing per key across all acquisitions} */
    long fencingToken();

    /**
     * {@return the wall time, in epoch milliseconds, after which the lock may be held by someone
     * else, as far as the lock itself knows; {@link Long#MAX_VALUE} when it keeps no such time}
     * A handler's context checks it beside the engine's own record of renewals: a lock that knows
     * when it expires (a partition's lease) stops its handlers the moment a paused process resumes
     * past that time, without waiting for a thread to notice.
     * <p>The engine relies on an answer until the time it gave has passed, and only then asks
     * again: while the lock holds, its expiry may only move later. A lock that learns it is lost
     * before that time says so through {@link #onLost}.
     */
    default long validUntilMillis() {
        return Long.MAX_VALUE;
    }

    /**
     * Extends the lease, only if this holder still owns it.
     *
     * @param ttl the new lease duration from now
     * @return false if the lease was lost (expired and possibly taken by another holder)
     * @throws RuntimeException if the lock store cannot be reached
     */
    boolean renew(Duration ttl);

    /**
     * Asks to be told as soon as this holder learns that the lease is lost, without waiting for
     * the next {@link #renew}. A lock whose loss can be learned between renewals (a partition's
     * lease, watched by a clock of its own) runs the action promptly, at most once, on the
     * thread that learned of the loss; if the lease is lost already the action runs at once, on
     * the caller's thread. The default learns nothing between renewals (other locks are only
     * checked by {@link #renew}) and never runs the action.
     * <p>The engine registers once per lock object, not once per event: when the provider hands
     * the same lock to several deliveries (a partition's lease covers all of its events), one
     * action cancels every handler then running under it, and the registration may outlive a
     * moment with no handler running (it is removed within a renewal period after the last one).
     * A lock must therefore keep a registered action until it is removed or has run, whichever
     * event it was first registered for.
     *
     * @param action what to do, e.g. cancel the handler; must be quick and must not throw
     * @return removes the action again; called when the lease no longer matters (no event runs under it)
     */
    default Runnable onLost(Runnable action) {
        return () -> { };
    }

    /** Releases the lease if this holder still owns it. Idempotent; never throws for a lost lease. */
    void release();

    /** Same as {@link #release()}. */
    @Override
    default void close() {
        release();
    }
}
