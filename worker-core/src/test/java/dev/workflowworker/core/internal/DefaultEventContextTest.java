package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DefaultEventContextTest {

    @Test
    void aLockThatKnowsItExpiredCancelsTheHandlerWithoutWaitingForItsWatchdog() {
        FakeClock clock = new FakeClock(Instant.parse("2026-12-06T10:00:00Z"));
        DefaultEventContext ctx = new DefaultEventContext(WorkflowEvent.builder("T").build(), 1, 7, "w", clock,
                clock.instant().plus(Duration.ofMinutes(10)), () -> false);
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
    void aStepOfTheWallClockNeitherExpiresTheEnginesLeaseRecordNorKeepsAnExpiredOneAlive() {
        AtomicLong wallStep = new AtomicLong();
        AtomicLong monoNanos = new AtomicLong(1_000_000_000L);
        dev.workflowworker.core.TimeSource stepped = new dev.workflowworker.core.TimeSource() {
            @Override
            public long wallMillis() {
                return 1_780_000_000_000L + wallStep.get();
            }

            @Override
            public long nanoTime() {
                return monoNanos.get();
            }
        };
        DefaultEventContext ctx = new DefaultEventContext(WorkflowEvent.builder("T").build(), 1, 7, "w", stepped,
                Instant.ofEpochMilli(stepped.wallMillis()).plus(Duration.ofDays(1)), () -> false);
        ctx.leaseValidUntilNanos(stepped.nanoTime() + Duration.ofSeconds(27).toNanos());
        // NTP corrects an hour forward: the store's TTL, counted on its own clock, did not move.
        wallStep.set(Duration.ofHours(1).toMillis());
        assertFalse(ctx.isLeaseLost(), "a forward step of the wall clock expired a held lease");
        // An hour back, then 28 s of real time without a renewal: expired, whatever the wall says.
        wallStep.set(-Duration.ofHours(1).toMillis());
        monoNanos.addAndGet(Duration.ofSeconds(28).toNanos());
        assertTrue(ctx.isLeaseLost(), "a lease not renewed for longer than its validity still held");
    }
}
