package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watchdog's use of {@link Lock#onLost}: a loss the lock learns between renewals cancels the
 * handler with no sweep in between (the fake clock never advances here, so no renewal runs), and
 * once the event settled its watch is gone from the lock and a late report changes nothing.
 * Events under one shared lock (a partition's lease) register with it once, not once each, and a
 * loss still reaches every one of them, whenever it joined.
 */
class LockWatchdogTest {

    /** A lock that reports its loss when told to, as a partition lease does from its own clock. */
    private static final class ReportingLock implements Lock {
        final Set<Runnable> actions = ConcurrentHashMap.newKeySet();
        volatile boolean lost;
        /** Runs first in {@link #onLost}: a test holds the registering thread there. */
        volatile Runnable beforeRegistering = () -> { };
        /** Thrown by {@link #onLost} when set, as a host's buggy lock might. */
        volatile RuntimeException registrationFails;
        /** Thrown by the undo {@link #onLost} returns when set. */
        volatile RuntimeException undoFails;
        final java.util.concurrent.atomic.AtomicInteger renewals = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public String key() {
            return "k";
        }

        @Override
        public long fencingToken() {
            return 1;
        }

        @Override
        public boolean renew(Duration ttl) {
            renewals.incrementAndGet();
            return !lost;
        }

        @Override
        public Runnable onLost(Runnable action) {
            beforeRegistering.run();
            if (registrationFails != null) {
                throw registrationFails;
            }
            actions.add(action);
            if (lost && actions.remove(action)) {
                action.run();
            }
            return () -> {
                actions.remove(action);
                if (undoFails != null) {
                    throw undoFails;
                }
            };
        }

        void lose() {
            lost = true;
            for (Runnable a : Set.copyOf(actions)) {
                if (actions.remove(a)) {
                    a.run();
                }
            }
        }

        @Override
        public void release() {
        }
    }

    private final FakeClock clock = new FakeClock();
    private final LockWatchdog watchdog = new LockWatchdog(clock, Duration.ofSeconds(60), clock, () -> { });

    private DefaultEventContext context() {
        return new DefaultEventContext(WorkflowEvent.builder("T").eventId("e1").executionId("x1").build(), 1, 1, "w1",
                clock, clock.nanoTime(), java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false);
    }

    @Test
    void aLossReportedByTheLockCancelsTheHandlerWithoutWaitingForARenewal() {
        ReportingLock lock = new ReportingLock();
        DefaultEventContext ctx = context();
        watchdog.watch(lock, ctx, clock.nanoTime());
        assertFalse(ctx.isCancelled());

        lock.lose();

        assertTrue(ctx.isLeaseLost(), "the loss was not passed on to the handler's context");
        assertTrue(ctx.isCancelled());
    }

    @Test
    void aLockLostAlreadyWhenWatchedCancelsAtOnce() {
        ReportingLock lock = new ReportingLock();
        lock.lose();
        DefaultEventContext ctx = context();
        watchdog.watch(lock, ctx, clock.nanoTime());
        assertTrue(ctx.isLeaseLost());
    }

    @Test
    void aSettledEventsWatchIsRemovedFromTheLockAndALateReportIsIgnored() {
        ReportingLock lock = new ReportingLock();
        DefaultEventContext ctx = context();
        LockWatchdog.Watch w = watchdog.watch(lock, ctx, clock.nanoTime());
        assertEquals(1, lock.actions.size());
        Runnable registered = lock.actions.iterator().next();

        w.cancel();

        assertTrue(lock.actions.isEmpty(), "the watch stayed registered with the lock after the event settled");
        // A lock that had already picked the action up when the watch ended still runs it.
        registered.run();
        assertFalse(ctx.isLeaseLost(), "a loss reported after the event settled cancelled it");
    }

    @Test
    void eventsUnderOneLockRegisterOnceAndALossCancelsEveryOne() {
        ReportingLock lock = new ReportingLock();
        DefaultEventContext a = context();
        DefaultEventContext b = context();
        DefaultEventContext c = context();
        watchdog.watch(lock, a, clock.nanoTime());
        LockWatchdog.Watch wb = watchdog.watch(lock, b, clock.nanoTime());
        watchdog.watch(lock, c, clock.nanoTime());
        assertEquals(1, lock.actions.size(), "each event registered with the lock on its own");

        wb.cancel();
        lock.lose();

        assertTrue(a.isLeaseLost(), "the first event under the lock was not cancelled");
        assertTrue(c.isLeaseLost(), "an event that joined the lock's registration was not cancelled");
        assertFalse(b.isLeaseLost(), "an event that settled before the loss was cancelled");
    }

    @Test
    void anEventJoiningASharedLockWhileNoneRunsIsStillCancelledOnItsLoss() {
        ReportingLock lock = sharedByTwoSettledEvents();
        assertEquals(1, lock.actions.size(), "a shared lock's registration ended with a quiet moment");

        DefaultEventContext later = context();
        watchdog.watch(lock, later, clock.nanoTime());
        assertEquals(1, lock.actions.size());
        lock.lose();

        assertTrue(later.isLeaseLost(), "an event under a registration kept from earlier events was not cancelled");
    }

    @Test
    void aSharedLockWithNoEventLeftIsUnregisteredByTheNextSweep() {
        ReportingLock lock = sharedByTwoSettledEvents();

        clock.advance(Duration.ofSeconds(11));

        assertTrue(lock.actions.isEmpty(), "a lock no event runs under stayed registered past a sweep");
        assertEquals(0, watchdog.registeredLocks());
    }

    @Test
    void aLockPerEventIsUnregisteredWithItsEvent() {
        for (int i = 0; i < 3; i++) {
            ReportingLock lock = new ReportingLock();
            watchdog.watch(lock, context(), clock.nanoTime()).cancel();
            assertTrue(lock.actions.isEmpty());
        }
        assertEquals(0, watchdog.registeredLocks(), "holds of locks used once piled up until a sweep");
    }

    /**
     * The hold's creator registers with the lock outside the stripe's monitor, so other events
     * join and leave the hold, and sweeps run, before it knows how to unregister. Its own watch
     * keeps the hold non-empty until it returns: no sweep nor cancel drops the hold in between,
     * and the one registration made ends with the hold.
     */
    @Test
    void aHoldJoinedLeftAndSweptWhileItsCreatorRegistersKeepsOneRegistrationThatEndsWithIt() throws Exception {
        ReportingLock lock = new ReportingLock();
        CountDownLatch registering = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        lock.beforeRegistering = () -> {
            registering.countDown();
            try {
                proceed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        ExecutorService creator = Executors.newSingleThreadExecutor();
        try {
            Future<LockWatchdog.Watch> first = creator.submit(() -> watchdog.watch(lock, context(), clock.nanoTime()));
            assertTrue(registering.await(10, TimeUnit.SECONDS));
            lock.beforeRegistering = () -> { };
            watchdog.watch(lock, context(), clock.nanoTime()).cancel();
            clock.advance(Duration.ofSeconds(11));
            assertEquals(1, watchdog.registeredLocks(), "the hold was dropped while its creator registered");
            proceed.countDown();
            LockWatchdog.Watch w = first.get(10, TimeUnit.SECONDS);
            assertEquals(1, lock.actions.size());

            w.cancel();
            clock.advance(Duration.ofSeconds(11));

            assertTrue(lock.actions.isEmpty(), "the registration outlived its hold");
            assertEquals(0, watchdog.registeredLocks());
        } finally {
            proceed.countDown();
            creator.shutdownNow();
        }
    }

    /**
     * Partition leases draw their fencing tokens from per-partition counters, so sixteen leases on
     * a fresh stream all hold token 1: they must still spread over the stripes, or every handler's
     * watch and cancel would queue on one monitor. (All 16 landing in one of 64 stripes by chance:
     * 64^-15.)
     */
    @Test
    void locksWithEqualFencingTokensSpreadOverTheStripes() {
        Set<Integer> stripes = new java.util.HashSet<>();
        for (int i = 0; i < 16; i++) {
            stripes.add(LockWatchdog.stripeOf(new ReportingLock()));
        }
        assertTrue(stripes.size() > 1, "16 locks of token 1 all share stripe " + stripes);
    }

    /**
     * A host's lock whose {@link Lock#onLost} throws: the watch went into the hold before the
     * registration, which threw out of {@code watch}, so the event failed and its watch stayed
     * in the hold, renewed by every sweep, for good. Now the registration's failure is logged and
     * the loss is learned at renewal.
     */
    @Test
    void aLockWhoseRegistrationThrowsIsWatchedByRenewalAndDroppedWithItsEvent() {
        ReportingLock lock = new ReportingLock();
        lock.registrationFails = new IllegalStateException("a host's lock cannot register");
        DefaultEventContext ctx = context();

        LockWatchdog.Watch w = watchdog.watch(lock, ctx, clock.nanoTime());
        lock.lost = true;
        clock.advance(Duration.ofSeconds(21));
        assertTrue(ctx.isLeaseLost(), "the loss was not learned at renewal");

        w.cancel();
        assertEquals(0, watchdog.registeredLocks(), "the watch stayed in its hold");
    }

    /**
     * An undo of a host's registration that throws stops neither the settled event's cancel nor
     * the sweep that drops a shared lock's registration: that sweep still renews the other leases.
     */
    @Test
    void anUndoThatThrowsStopsNeitherTheCancelNorTheSweepsRenewals() {
        ReportingLock own = new ReportingLock();
        own.undoFails = new IllegalStateException("a host's undo fails");
        watchdog.watch(own, context(), clock.nanoTime()).cancel();
        assertTrue(own.actions.isEmpty());

        ReportingLock shared = sharedByTwoSettledEvents();
        shared.undoFails = new IllegalStateException("a host's undo fails");
        ReportingLock other = new ReportingLock();
        // Acquired a renewal period ago: due at the first sweep, the one that drops the shared lock.
        watchdog.watch(other, context(), clock.nanoTime() - Duration.ofSeconds(20).toNanos());

        clock.advance(Duration.ofSeconds(11));

        assertEquals(1, other.renewals.get(), "the sweep stopped at the undo that threw");
        assertEquals(1, watchdog.registeredLocks(), "only the other lock is left");
    }

    /** A lock two events ran under at once, both settled since: the lock is known to be shared. */
    private ReportingLock sharedByTwoSettledEvents() {
        ReportingLock lock = new ReportingLock();
        LockWatchdog.Watch w1 = watchdog.watch(lock, context(), clock.nanoTime());
        LockWatchdog.Watch w2 = watchdog.watch(lock, context(), clock.nanoTime());
        w1.cancel();
        w2.cancel();
        return lock;
    }
}
