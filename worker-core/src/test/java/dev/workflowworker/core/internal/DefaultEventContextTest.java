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
        ctx.leaseValidUntil(clock.wallMillis() + 30_000); // the engine's record: renewed for 30 s
        AtomicLong lockValidUntil = new AtomicLong(clock.wallMillis() + 5_000);
        ctx.lock(lockValidUntil::get);
        assertFalse(ctx.isCancelled());
        // The process was paused for 6 s: the lock's own expiry has passed, the engine's record not.
        clock.advance(Duration.ofSeconds(6));
        assertTrue(ctx.isLeaseLost());
        assertTrue(ctx.isCancelled());
    }
}
