package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.Scheduler;
import dev.workflowworker.core.TimeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Renews held leases from a dedicated scheduler, so a saturated handler pool can never starve
 * renewal. When a renewal reports the lease lost, or renewals keep failing until the lease must
 * have expired, the handler's context is cancelled at once.
 *
 * <p>One sweep task renews every lease that is a third of its TTL old. Watches live in stripes
 * (a monitor and a list each), chosen by the lock object's identity: registering an event is a
 * link into a list under an uncontended monitor, where a concurrent set paid a shared size
 * counter per insert and removal (docs/BENCHMARKS.md, "jjvm3").
 *
 * <p>Events that run under one lock (a partition's lease: every event of the partition) share a
 * {@link Hold}, which registers with {@link Lock#onLost} once for all of them, not once per event.
 * A hold that only ever had one watch (a lock per event) is dropped with it; a shared one stays
 * registered while it is empty, until a sweep finds it still empty or the lock is lost.
 */
public final class LockWatchdog {

    private static final Logger log = LoggerFactory.getLogger(LockWatchdog.class);
    private static final int STRIPES = 64;

    private final Duration ttl;
    private final long renewEveryMillis;
    private final long validityNanos;
    private final TimeSource time;
    private final Periodic sweeps;
    private final Runnable onInfraError;
    private final Stripe[] stripes = new Stripe[STRIPES];

    /** The holds of the locks whose identity hashes fall here, under this stripe's monitor. */
    private static final class Stripe {
        final ArrayList<Hold> holds = new ArrayList<>(2);
    }

    /**
     * The watches of one lock, and the lock's one registration for its loss. Its list and flags
     * are guarded by its stripe's monitor.
     */
    private final class Hold implements Runnable {
        private final Lock lock;
        private final Stripe stripe;
        private Watch first;
        private int size;
        /** More than one watch was in it at once: the lock is shared, so the hold outlives an empty moment. */
        private boolean shared;
        /** Its lock reported the loss: no watch may join it any more. */
        private boolean fired;
        private volatile Runnable unregister = () -> { };

        Hold(Lock lock, Stripe stripe) {
            this.lock = lock;
            this.stripe = stripe;
        }

        void link(Watch w) {
            w.next = first;
            if (first != null) {
                first.prev = w;
            }
            first = w;
            if (++size > 1) {
                shared = true;
            }
        }

        void unlink(Watch w) {
            if (w.prev != null) {
                w.prev.next = w.next;
            } else {
                first = w.next;
            }
            if (w.next != null) {
                w.next.prev = w.prev;
            }
            w.prev = null;
            w.next = null;
            size--;
        }

        /**
         * The lock learned of its loss between renewals: cancels every handler under it then, not
         * at the next sweep, since a partition's next owner may start the key's next event as soon
         * as the lease expires in the store. Watches cancelled before are no longer in the hold.
         */
        @Override
        public void run() {
            List<Watch> under = new ArrayList<>();
            synchronized (stripe) {
                if (fired) {
                    return;
                }
                fired = true;
                stripe.holds.remove(this);
                for (Watch w = first; w != null; w = w.next) {
                    under.add(w);
                }
            }
            for (Watch w : under) {
                if (!w.context.isLeaseLost()) {
                    log.warn("lease on lock key {} was lost (fencing token {}); cancelling its handler",
                            lock.key(), lock.fencingToken());
                    w.context.leaseLost();
                }
            }
        }
    }

    /** A lease being renewed for one event; {@link #cancel()} it when the handler is done. */
    public final class Watch {
        private final Lock lock;
        private final DefaultEventContext context;
        private final Hold hold;
        /** Neighbours in the hold's list, and whether it is still in it; under the stripe's monitor. */
        private Watch prev;
        private Watch next;
        private boolean watching = true;
        /** When the last good acquire or renewal was sent: expiry is counted from it. */
        private volatile long lastGoodSentNanos;
        /** When the last renewal was due or done: the next is due a third of the TTL later. */
        private volatile long lastRenewedNanos;

        private Watch(Lock lock, DefaultEventContext context, Hold hold, long sentNanos) {
            this.lock = lock;
            this.context = context;
            this.hold = hold;
            this.lastGoodSentNanos = sentNanos;
            // Counted from the acquisition's send, which is no later than now: the first renewal
            // comes no later than a third of the TTL after the lease was taken.
            this.lastRenewedNanos = sentNanos;
        }

        /** Stops renewing; a loss reported after this leaves the event alone. Idempotent. */
        public void cancel() {
            Runnable undo = null;
            synchronized (hold.stripe) {
                if (!watching) {
                    return;
                }
                watching = false;
                hold.unlink(this);
                if (hold.size == 0 && !hold.shared && !hold.fired) {
                    // A lock per event: its registration ends with the event, as before holds.
                    hold.stripe.holds.remove(hold);
                    undo = hold.unregister;
                }
            }
            if (undo != null) {
                unregister(hold.lock, undo);
            }
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
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
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
        Stripe stripe = stripes[stripeOf(lock)];
        Hold hold = null;
        Watch w;
        boolean created = false;
        synchronized (stripe) {
            // Identity, not equals: a hold is one lock object's registration. A stripe holds few
            // locks at once (the partitions' leases, or the events in flight over 64 stripes).
            for (int i = 0, n = stripe.holds.size(); i < n; i++) {
                Hold h = stripe.holds.get(i);
                if (h.lock == lock) {
                    hold = h;
                    break;
                }
            }
            if (hold == null) {
                hold = new Hold(lock, stripe);
                stripe.holds.add(hold);
                created = true;
            }
            w = new Watch(lock, context, hold, acquiredAtNanos);
            hold.link(w);
        }
        if (created) {
            // Outside the stripe's monitor: a lock lost already runs the hold at once, on this
            // thread, and a lock that fires under a monitor of its own cannot deadlock with us.
            // Watches that join meanwhile are in the hold when it runs. Assigned late but never
            // missed: w stays in the hold until this returns it, so neither a sweep nor a cancel
            // can find the hold empty and drop it before its unregister is set.
            hold.unregister = register(lock, hold);
        }
        return w;
    }

    /**
     * {@return how to undo the hold's registration with its lock} A host's lock whose registration
     * throws (or answers null) must not leave the watch in the hold with no one to cancel it (the
     * event would fail, its watch renewed forever): the loss is then learned at renewal only.
     */
    private static Runnable register(Lock lock, Hold hold) {
        try {
            Runnable undo = lock.onLost(hold);
            return undo != null ? undo : () -> { };
        } catch (RuntimeException e) {
            log.warn("lock key {} could not register for its loss ({}); a loss is noticed at renewal instead",
                    lock.key(), e.toString());
            return () -> { };
        }
    }

    /** Runs a registration's undo; one that throws must not stop the caller's bookkeeping (a sweep, a settled event). */
    private static void unregister(Lock lock, Runnable undo) {
        try {
            undo.run();
        } catch (RuntimeException e) {
            log.warn("lock key {} failed to drop its loss registration: {}", lock.key(), e.toString());
        }
    }

    static int stripeOf(Lock lock) {
        // By identity, not by fencing token: every partition's lease draws its token from its own
        // counter, so on a fresh stream all of them hold token 1 and would share one stripe. A
        // lease's identity hash is made once and then read from its header.
        long h = System.identityHashCode(lock) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 58);
    }

    private void sweep() {
        // Monotonic time decides both when to renew and when a lease expired: the store counts its
        // TTL on its own clock, which a step of this host's wall clock does not move.
        List<Watch> watches = new ArrayList<>();
        List<Runnable> undo = new ArrayList<>();
        for (Stripe stripe : stripes) {
            synchronized (stripe) {
                for (Iterator<Hold> it = stripe.holds.iterator(); it.hasNext(); ) {
                    Hold h = it.next();
                    if (h.size == 0) {
                        // A shared lock with no event under it since the last sweep: likely given up.
                        it.remove();
                        undo.add(() -> unregister(h.lock, h.unregister));
                    }
                    for (Watch w = h.first; w != null; w = w.next) {
                        watches.add(w);
                    }
                }
            }
        }
        for (Runnable u : undo) {
            u.run();
        }
        for (Watch w : watches) {
            long now = time.nanoTime();
            if (w.context.isLeaseLost()) {
                continue;
            }
            if (now - w.lastRenewedNanos >= TimeUnit.MILLISECONDS.toNanos(renewEveryMillis)) {
                renew(w, now);
            }
        }
    }

    /** {@return how many locks are registered for their loss now} For tests. */
    int registeredLocks() {
        int n = 0;
        for (Stripe stripe : stripes) {
            synchronized (stripe) {
                n += stripe.holds.size();
            }
        }
        return n;
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
