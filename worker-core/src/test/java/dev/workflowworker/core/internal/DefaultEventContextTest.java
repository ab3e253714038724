package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DefaultEventContextTest {

    /** A clock whose wall time can step while its monotonic time stands still, as NTP does to a host. */
    private static final class SteppedClock implements TimeSource {
        final AtomicLong wallStep = new AtomicLong();
        final AtomicLong monoNanos = new AtomicLong(1_000_000_000L);

        @Override
        public long wallMillis() {
            return 1_780_000_000_000L + wallStep.get();
        }

        @Override
        public long nanoTime() {
            return monoNanos.get();
        }
    }

    private static DefaultEventContext context(TimeSource clock, Duration timeout) {
        return new DefaultEventContext(WorkflowEvent.builder("T").build(), 1, 7, "w", clock, clock.nanoTime(), timeout,
                () -> false);
    }

    @Test
    void aLockThatKnowsItExpiredCancelsTheHandlerWithoutWaitingForItsWatchdog() {
        FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        DefaultEventContext ctx = context(clock, Duration.ofMinutes(10));
        ctx.leaseValidUntilNanos(clock.nanoTime() + Duration.ofSeconds(30).toNanos()); // the engine's record: renewed for 30 s
        AtomicLong lockValidUntil = new AtomicLong(clock.wallMillis() + 5_000);
        ctx.lock(lockValidUntil::get);
        assertFalse(ctx.isCancelled());
        // The process was paused for 6 s: the lock's own expiry has passed, the engine's record not.
        clock.advance(Duration.ofSeconds(6));
        assertTrue(ctx.isLeaseLost());
        assertTrue(ctx.isCancelled());
    }

    @Test
    void aLockRenewedSinceItWasLastAskedIsAskedAgainOnceItsFormerExpiryHasPassed() {
        FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        DefaultEventContext ctx = context(clock, Duration.ofMinutes(10));
        AtomicLong lockValidUntil = new AtomicLong(clock.wallMillis() + 5_000);
        AtomicInteger asked = new AtomicInteger();
        ctx.lock(() -> {
            asked.incrementAndGet();
            return lockValidUntil.get();
        });
        assertFalse(ctx.isLeaseLost());
        clock.advance(Duration.ofSeconds(4));
        assertFalse(ctx.isLeaseLost());
        assertEquals(1, asked.get(), "a lock that said it holds for 5 s was asked again within them");
        lockValidUntil.set(clock.wallMillis() + 5_000); // renewed at 4 s: now valid until 9 s
        clock.advance(Duration.ofSeconds(2));
        assertFalse(ctx.isLeaseLost(), "the renewal was not seen once the former expiry had passed");
        assertEquals(2, asked.get());
        clock.advance(Duration.ofSeconds(4));
        assertTrue(ctx.isLeaseLost());
    }

    @Test
    void aStepOfTheWallClockNeitherExpiresTheEnginesLeaseRecordNorKeepsAnExpiredOneAlive() {
        SteppedClock stepped = new SteppedClock();
        DefaultEventContext ctx = context(stepped, Duration.ofDays(1));
        ctx.leaseValidUntilNanos(stepped.nanoTime() + Duration.ofSeconds(27).toNanos());
        // NTP corrects an hour forward: the store's TTL, counted on its own clock, did not move.
        stepped.wallStep.set(Duration.ofHours(1).toMillis());
        assertFalse(ctx.isLeaseLost(), "a forward step of the wall clock expired a held lease");
        // An hour back, then 28 s of real time without a renewal: expired, whatever the wall says.
        stepped.wallStep.set(-Duration.ofHours(1).toMillis());
        stepped.monoNanos.addAndGet(Duration.ofSeconds(28).toNanos());
        assertTrue(ctx.isLeaseLost(), "a lease not renewed for longer than its validity still held");
    }

    @Test
    void aStepOfTheWallClockNeitherCancelsARunningAttemptNorKeepsAnOverdueOneGoing() {
        SteppedClock stepped = new SteppedClock();
        DefaultEventContext ctx = context(stepped, Duration.ofMinutes(10));
        stepped.wallStep.set(Duration.ofHours(1).toMillis());
        assertFalse(ctx.isCancelled(), "a forward step of the wall clock longer than the event timeout cancelled the handler");
        // The deadline is reported on the wall clock as it reads now: still 10 minutes ahead.
        assertEquals(stepped.wallMillis() + Duration.ofMinutes(10).toMillis(), ctx.deadline().toEpochMilli());
        stepped.wallStep.set(-Duration.ofHours(1).toMillis());
        stepped.monoNanos.addAndGet(Duration.ofMinutes(10).plusMillis(1).toNanos());
        assertTrue(ctx.isCancelled(), "an attempt past its timeout ran on because the wall clock went back");
    }

    @Test
    void eachAttemptHasItsOwnTimeout() {
        FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        DefaultEventContext ctx = context(clock, Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(31));
        assertTrue(ctx.isCancelled());
        ctx.attempt(2, clock.nanoTime());
        assertFalse(ctx.isCancelled(), "a new attempt inherited the former one's deadline");
        assertEquals(2, ctx.attempt());
        // FakeClock's monotonic time runs on with the real one, so the two differ by the test's own run time.
        long off = Duration.between(clock.instant().plusSeconds(30), ctx.deadline()).toMillis();
        assertTrue(Math.abs(off) <= 1_000, "deadline " + ctx.deadline() + " is not 30 s after " + clock.instant());
    }

    @Test
    void noTimeoutMeansNoDeadline() {
        FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        DefaultEventContext ctx = context(clock, ChronoUnit.FOREVER.getDuration());
        clock.advance(Duration.ofDays(10_000));
        assertFalse(ctx.isCancelled());
        assertEquals(Instant.MAX, ctx.deadline());
    }
}
