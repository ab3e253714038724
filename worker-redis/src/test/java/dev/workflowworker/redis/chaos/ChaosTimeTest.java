package dev.workflowworker.redis.chaos;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The chaos run's judgement of delayed events and schedule occurrences counts what it is meant to:
 * a hand-written ledger with one of each fault. Without this, a run that counts nothing would look
 * like a run where nothing went wrong.
 */
class ChaosTimeTest {

    @Test
    void eachFaultInTheLedgerIsCounted() {
        ChaosTime time = new ChaosTime(100, 8);
        // exec-1: seq 0 acknowledged at 900 and seq 1 at 1100 (before dl-a's due time 1200); seq 2 sent
        // at 1600, after dl-a started (1500), and seq 3 at 1700.
        time.published("exec-1", 0, 890, 900);
        time.published("exec-1", 1, 1090, 1100);
        time.published("exec-1", 2, 1600, 1610);
        time.published("exec-1", 3, 1700, 1710);
        // dl-a started with only seq 0 applied: seq 1, in the stream before it, came after it.
        time.planned("dl-a", "exec-1", 1200, true);
        // dl-b (due 1650) started at 1650 after seq 3 was applied: seq 3, sent after it started, came before it.
        time.planned("dl-b", "exec-1", 1650, true);
        // dl-c was published and never ran; dl-d's publish answer was lost and it did not run: allowed.
        time.planned("dl-c", "exec-2", 1000, true);
        time.planned("dl-d", "exec-2", 1000, null);
        time.occurrences(List.of(1000L, 2000L, 3000L));

        Map<String, String> done = Map.of("dl-a", "1", "dl-b", "1", "chaos-tick:1000", "1", "chaos-tick:3000", "1",
                "chaos-tick:4000", "1");
        ChaosTime.Figures f = time.judge(done, Map.of("dl-a", "0", "dl-b", "3"), Map.of("dl-a", "1500", "dl-b", "1650"),
                Map.of("chaos-tick:1000", "1001", "chaos-tick:3000", "3001"));

        assertEquals(3, f.delayedPublished());
        assertEquals(1, f.delayedUnknown());
        assertEquals(1, f.delayedLost(), "dl-c");
        assertEquals(2, f.delayedOrderViolations(), "seq 1 after dl-a, seq 3 before dl-b");
        assertEquals(1, f.tickLost(), "chaos-tick:2000");
        assertEquals(1, f.tickExtra(), "chaos-tick:4000");
        assertFalse(f.hold());
        assertEquals(java.util.Set.of("dl-c", "chaos-tick:2000"), time.missing(done, Map.of()));
    }

    /**
     * FIRE_ONCE coalesces the occurrences found more than its threshold (a minute) late into the
     * latest of them: one missed is not lost when a later one ran, started more than the threshold
     * after it; at the threshold or without a later one it is lost.
     */
    @Test
    void anOccurrenceIsCoalescedOnlyWhenALaterOneRanMoreThanTheThresholdAfterIt() {
        ChaosTime time = new ChaosTime(100, 8);
        time.occurrences(List.of(1000L, 2000L, 3000L));
        Map<String, String> done = Map.of("chaos-tick:1000", "1", "chaos-tick:3000", "1");

        ChaosTime.Figures coalesced = time.judge(done, Map.of(), Map.of(), Map.of("chaos-tick:3000", "62001"));
        assertEquals(0, coalesced.tickLost());
        assertEquals(1, coalesced.tickCoalesced(), "chaos-tick:2000, found 60,001 ms late");
        assertEquals(java.util.Set.of(), time.missing(done, Map.of("chaos-tick:3000", "62001")));

        ChaosTime.Figures atThreshold = time.judge(done, Map.of(), Map.of(), Map.of("chaos-tick:3000", "62000"));
        assertEquals(1, atThreshold.tickLost(), "found exactly a minute late: it had to fire");
        assertEquals(0, atThreshold.tickCoalesced());

        ChaosTime.Figures lastMissing = time.judge(Map.of("chaos-tick:1000", "1"), Map.of(), Map.of(),
                Map.of("chaos-tick:1000", "99000"));
        assertEquals(2, lastMissing.tickLost(), "nothing later ran: nothing coalesced them");
    }
}
