package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.Scheduler;
import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Renews held leases from a dedicated scheduler, so a saturated handler pool can never starve
 * renewal. When a renewal reports the lease lost, or renewals keep failing until the lease must
 * have expired, the handler's context is cancelled at once.
 *
 * <p>One sweep task renews every lease that is a third of its TTL old. Registering a lease is a
 * concurrent-set insert: scheduling a task per event would put every event through the
 * scheduler's single queue lock.
 */
public final class LockWatchdog {

    private static final Logger log = LoggerFactory.getLogger(LockWatchdog.class);

    private final Duration ttl;
    private final long renewEveryMillis;
    private final long validityNanos;
    private final TimeSource time;
    private final Periodic sweeps;
    private final Runnable onInfraError;
    private final Set<Watch> held = ConcurrentHashMap.newKeySet();

    /**
     * A lease being renewed; {@link #cancel()} it when the handler is done. It is also the action
     * its lock runs on a loss, and it hashes by a number of its own: one object and no identity
     * hash per event, whose first computation is a call into the VM (docs/BENCHMARKS.md, "JVM path").
     */
    public final class Watch implements Runnable {
        private final Lock lock;
        private final DefaultEventContext context;
        private final int hash = ThreadLocalRandom.current().nextInt();
        /** When the last good acquire or renewal was sent: expiry is counted from it. */
        private volatile long lastGoodSentNanos;
        /** When the last renewal was due or done: the next is due a third of the TTL later. */
        private volatile long lastRenewedNanos;
        private volatile Runnable unwatchLoss = () -> { };

        private Watch(Lock lock, DefaultEventContext context, long sentNanos) {
            this.lock = lock;
            this.context = context;
            this.lastGoodSentNanos = sentNanos;
            // Counted from the acquisition's send, which is no later than now: the first renewal
            // comes no later than a third of the TTL after the lease was taken.
            this.lastRenewedNanos = sentNanos;
        }

        /** Stops renewing. */
        public void cancel() {
            held.remove(this);
            unwatchLoss.run();
        }

        /**
         * The lock learned of its loss between renewals: cancels the handler then, not at the next
         * sweep, since a partition's next owner may start the key's next event as soon as the
         * lease expires in the store. A report after {@link #cancel()} is ignored.
         */
        @Override
        public void run() {
            if (held.contains(this) && !context.isLeaseLost()) {
                log.warn("lease on lock key {} was lost (fencing token {}); cancelling its handler",
                        lock.key(), lock.fencingToken());
                context.leaseLost();
            }
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return this == o;
        }
    }

    /**
     * @param scheduler    the renewal scheduler; a busy handler pool must not be able to starve it
     * @param ttl          the lease duration
     * @param time         the time source
     * @param onInfraError told when a renewal could not reach the lock store
     */
    public LockWatchdog(Scheduler scheduler, Duration ttl, TimeSource time, Runnable onInfraError) {
        this.ttl = ttl;
        this.renewEveryMillis = Math.max(1, ttl.toMillis() / 3);
        // A tenth of the TTL covers the time between our clock reading and the store's.
        this.validityNanos = TimeUnit.MILLISECONDS.toNanos(ttl.toMillis() - Math.max(1, ttl.toMillis() / 10));
        this.time = time;
        this.onInfraError = onInfraError;
        // Sweeping twice per renewal period bounds a lease's age at renewal to half a period late.
        long sweep = Math.max(1, renewEveryMillis / 2);
        this.sweeps = Periodic.start(scheduler, Duration.ofMillis(sweep), this::sweep);
    }

    /**
     * Starts renewing {@code lock} every third of the TTL until the returned watch is cancelled.
     * The acquisition was sent at {@code acquiredAtNanos}: the lease surely holds until then plus
     * the TTL, less a margin.
     *
     * @param lock            the held lock
     * @param context         the context to cancel when the lease is lost
     * @param acquiredAtNanos {@link TimeSource#nanoTime()} just before the acquisition was sent
     * @return the watch
     */
    public Watch watch(Lock lock, DefaultEventContext context, long acquiredAtNanos) {
        context.leaseValidUntilNanos(acquiredAtNanos + validityNanos);
        Watch w = new Watch(lock, context, acquiredAtNanos);
        held.add(w);
        w.unwatchLoss = lock.onLost(w);
        return w;
    }

    private void sweep() {
        // Monotonic time decides both when to renew and when a lease expired: the store counts its
        // TTL on its own clock, which a step of this host's wall clock does not move.
        for (Watch w : held) {
            long now = time.nanoTime();
            if (w.context.isLeaseLost()) {
                continue;
            }
            if (now - w.lastRenewedNanos >= TimeUnit.MILLISECONDS.toNanos(renewEveryMillis)) {
                renew(w, now);
            }
        }
    }

    private void renew(Watch w, long nowNanos) {
        // Redis counts the new TTL from when it receives the command, which is after this instant.
        long sentAt = time.nanoTime();
        try {
            if (w.lock.renew(ttl)) {
                w.lastGoodSentNanos = sentAt;
                w.context.leaseValidUntilNanos(sentAt + validityNanos);
                w.lastRenewedNanos = nowNanos;
            } else {
                log.warn("lease on lock key {} was lost (fencing token {}); cancelling its handler",
                        w.lock.key(), w.lock.fencingToken());
                w.context.leaseLost();
            }
        } catch (RuntimeException e) {
            onInfraError.run();
            // Past the TTL since the last good renewal the lease is gone, whatever the store says later.
            if (time.nanoTime() - w.lastGoodSentNanos >= ttl.toNanos()) {
                log.warn("could not renew lock key {} for a whole TTL; treating the lease as lost", w.lock.key(), e);
                w.context.leaseLost();
            } else {
                log.debug("renewal of lock key {} failed; will retry", w.lock.key(), e);
            }
        }
    }

    /** Stops renewing every lease. */
    public void stop() {
        sweeps.cancel();
    }
}
