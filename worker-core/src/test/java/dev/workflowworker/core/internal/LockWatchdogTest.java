package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watchdog's use of {@link Lock#onLost}: a loss the lock learns between renewals cancels the
 * handler with no sweep in between (the fake clock never advances here, so no renewal runs), and
 * once the event settled its watch is gone from the lock and a late report changes nothing.
 */
class LockWatchdogTest {

    /** A lock that reports its loss when told to, as a partition lease does from its own clock. */
    private static final class ReportingLock implements Lock {
        final Set<Runnable> actions = ConcurrentHashMap.newKeySet();
        volatile boolean lost;

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
            return !lost;
        }

        @Override
        public Runnable onLost(Runnable action) {
            actions.add(action);
            if (lost && actions.remove(action)) {
                action.run();
            }
            return () -> actions.remove(action);
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
}
