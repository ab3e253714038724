package dev.workflowworker.redis.internal.partitioned;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When the partitioned reader lingers before its next round, and for how long at most (explicit clock readings). */
class ReadLingerTest {

    private static final long T = 1_000_000_000L;

    @Test
    void aSmallRoundRightAfterAnotherWaitsUntilTheBoundAfterItAndNoLonger() {
        ReadLinger l = new ReadLinger();
        l.afterRound(20, T);
        assertEquals(0, l.nanosToWait(T), "the first round of a flow does not linger");
        l.afterRound(10, T + 100);
        assertEquals(ReadLinger.LINGER_NANOS - 200, l.nanosToWait(T + 300));
        // Cut short by a wake: the rest of the bound only.
        assertEquals(ReadLinger.LINGER_NANOS - 400, l.nanosToWait(T + 500));
        assertEquals(0, l.nanosToWait(T + 100 + ReadLinger.LINGER_NANOS), "past the bound: read now");
        assertEquals(0, l.nanosToWait(T + 200), "a linger ended stays ended");
    }

    @Test
    void aLoneEventASlowFlowAndALargeRoundAreReadAtOnce() {
        ReadLinger l = new ReadLinger();
        // A lone event after a wait for news: the round before found nothing.
        l.afterRound(0, T);
        l.afterRound(1, T + 10);
        assertEquals(0, l.nanosToWait(T + 20));
        // Even a burst right after a wait for news is read at once.
        l.afterRound(0, T + 30);
        l.afterRound(50, T + 40);
        assertEquals(0, l.nanosToWait(T + 50));
        // Flowing, but fewer than the minimum: a slow flow.
        l.afterRound(ReadLinger.LINGER_MIN - 1, T + 60);
        assertEquals(0, l.nanosToWait(T + 70));
        // Flowing with a large round: the reader is behind, batches are large already.
        l.afterRound(ReadLinger.LINGER_BELOW, T + 80);
        assertEquals(0, l.nanosToWait(T + 90));
    }

    @Test
    void anEmptyRoundEndsTheFlowAndALaterLargeRoundCancelsAPendingLinger() {
        ReadLinger l = new ReadLinger();
        l.afterRound(10, T);
        l.afterRound(10, T + 10);
        assertTrue(l.nanosToWait(T + 20) > 0);
        l.afterRound(300, T + 30);
        assertEquals(0, l.nanosToWait(T + 40), "a large round cancels the linger");
        l.afterRound(0, T + 50);
        l.afterRound(10, T + 60);
        assertEquals(0, l.nanosToWait(T + 70), "after a wait for news the flow starts again");
    }

    @Test
    void aClockThatDoesNotMoveHoldsTheReaderForABoundedNumberOfWaits() {
        ReadLinger l = new ReadLinger();
        l.afterRound(10, T);
        l.afterRound(10, T);
        int waits = 0;
        while (l.nanosToWait(T) > 0) {
            waits++;
            assertTrue(waits <= ReadLinger.MAX_WAITS, "more waits than the bound");
        }
        assertEquals(ReadLinger.MAX_WAITS, waits);
    }

    @Test
    void noWaitIsLongerThanTheBoundEvenIfTheClockSteppedBack() {
        ReadLinger l = new ReadLinger();
        l.afterRound(10, T);
        l.afterRound(10, T);
        assertEquals(ReadLinger.LINGER_NANOS, l.nanosToWait(T - 5_000_000));
    }
}
