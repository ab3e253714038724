package dev.workflowworker.redis.chaos;

import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.redis.chaos.OccurrenceChaosRun.Answer;
import dev.workflowworker.redis.chaos.OccurrenceChaosRun.Delayed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The occurrence chaos run's checks catch what they are meant to: a ledger written by hand with
 * one of each fault, and none of the checks passing it by. Without this, a run that counts
 * nothing would look like a run where nothing went wrong.
 */
class OccurrenceReportTest {

    @Test
    void eachFaultInTheLedgerIsCounted(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ledger-1.tsv"), String.join("\n",
                "R\t1",
                // tick:1000 started a millisecond before it was due
                "S\t1\ttick:1000\t999\t1000\t1000\t1", "E\t1\ttick:1000\t1001", "C\t1\ttick:1000\t1-0\t1002",
                // tick:2000 never ran; tick:3000 ran again after its success was recorded
                "S\t1\ttick:3000\t3005\t3000\t3000\t1", "E\t1\ttick:3000\t3006", "C\t1\ttick:3000\t2-0\t3010",
                "S\t1\ttick:3000\t3020\t3000\t3000\t1",
                // tick:4000 is past the schedule's end
                "S\t1\ttick:4000\t4001\t4000\t4000\t1", "E\t1\ttick:4000\t4002", "C\t1\ttick:4000\t3-0\t4003",
                // tick-once: 2000 coalesced into 3000, started late enough; 4000, the last, never ran
                "S\t1\ttick-once:1000\t1010\t1000\t1000\t1", "C\t1\ttick-once:1000\t4-0\t1011",
                "S\t1\ttick-once:3000\t3400\t3000\t3000\t1", "C\t1\ttick-once:3000\t5-0\t3401",
                // d-2 ran although its cancel answered true
                "S\t1\td-2\t2500\t2000\t-\t1", "C\t1\td-2\t6-0\t2501",
                // d-4 (due 6000) started early, and before d-3 (due 5000) had settled: d-3 ran again after it
                "S\t1\td-3\t5001\t5000\t-\t1", "S\t1\td-4\t5500\t6000\t-\t1", "S\t1\td-3\t5600\t5000\t-\t1",
                "C\t1\td-3\t7-0\t5601", "C\t1\td-4\t8-0\t5602",
                // half a record from a process killed while writing it: not counted
                "S\t1\td-1\t10") );
        Delayed missing = delayed("d-1", "x", 1000, Answer.NONE);
        Delayed cancelled = delayed("d-2", "y", 2000, Answer.TRUE);
        Delayed first = delayed("d-3", "z", 5000, Answer.NONE);
        Delayed second = delayed("d-4", "z", 6000, Answer.NONE);
        Schedule tick = Schedule.every("tick", Duration.ofSeconds(1)).eventType("T").build();
        Schedule once = Schedule.every("tick-once", Duration.ofSeconds(1)).eventType("T").build();
        OccurrenceReport r = new OccurrenceReport(new OccurrenceChaosRun.Settings(3, 1, 1, 3, 0, 0, 8, 2000, 300),
                OccurrenceLedger.read(dir), Set.of(), List.of(1000L, 2000L, 3000L), List.of(1000L, 2000L, 3000L, 4000L),
                List.of(missing, cancelled, first, second), new ScheduleInfo(tick, null, null, 3, 0),
                new ScheduleInfo(once, null, null, 2, 2), List.of(), List.of(), 0, 0, 0, 0);

        assertEquals(1, r.tickMissing());
        assertEquals(1, r.tickDuplicates());
        assertEquals(1, r.tickExtra());
        assertEquals(1, r.tickBeforeDue());
        assertEquals(2, r.onceCoalesced());
        assertEquals(1, r.onceUnjustifiedSkips(), "4000 has nothing after it that ran for it");
        assertFalse(r.onceLastRan());
        assertEquals(1, r.delayedMissing());
        assertEquals(1, r.cancelledButRan());
        assertEquals(1, r.delayedBeforeDue());
        assertEquals(1, r.delayedOrderViolations());
        assertEquals(0, r.delayedDuplicates(), "d-3 ran again before its success: a re-run, allowed");
        assertFalse(r.promisesHold());
    }

    /**
     * The ledger lines of the failed run (d-29 on pid 19282, Redis SIGKILLed after it applied and
     * fsynced the commit and before the reply left: the AOF held the commit, the worker logged
     * "cannot commit 1 entries"): an effect by a live process with no success recorded and no
     * rerun is completed once when its own commit is in Redis, and missing when it is not.
     */
    @Test
    void aCommitAppliedWithItsReplyLostIsNotMissingButOneRedisNeverHeldIs(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ledger-19282.tsv"), String.join("\n",
                "R\t19282",
                "S\t19282\td-29\t1796657200568\t1796657198854\t-\t1", "E\t19282\td-29\t1796657200575",
                "S\t19282\td-30\t1796657200568\t1796657198854\t-\t1", "E\t19282\td-30\t1796657200575", ""));
        Set<String> landed = new java.util.HashSet<>();
        OccurrenceChaosRun.unpackIds("2|4:d-295:d-100", landed);
        assertEquals(Set.of("d-29", "d-100"), landed);
        OccurrenceLedger ledger = OccurrenceLedger.read(dir);
        ledger.landedCommits.addAll(landed);
        Schedule tick = Schedule.every("tick", Duration.ofSeconds(1)).eventType("T").build();
        OccurrenceReport r = new OccurrenceReport(new OccurrenceChaosRun.Settings(3, 1, 1, 3, 0, 1, 8, 2000, 300),
                ledger, Set.of(), List.of(), List.of(1000L), List.of(delayed("d-29", "dx-5", 1796657198854L, Answer.NONE),
                        delayed("d-30", "dx-0", 1796657198854L, Answer.NONE)),
                new ScheduleInfo(tick, null, null, 0, 0), new ScheduleInfo(tick, null, null, 0, 0), List.of(), List.of(),
                0, 0, 0, 0);

        assertEquals(1, r.delayedMissing(), "d-30: no commit of its own in Redis");
        assertEquals(1, r.commitReplyLost(), "d-29");
        assertEquals(1, r.effectWithoutSuccessNotRerun(), "d-30");
        assertEquals(0, r.delayedDuplicates());
    }

    /**
     * The run's precondition follows its own timing: tick's occurrences from the first second
     * after its creation to its end, and every fault before the last of them. A creation that
     * took 3 s (22 of a 25 s window left) passes; a first occurrence later than a second after
     * the creation answered, or a fault after the last occurrence, does not.
     */
    @Test
    void theWindowIsJudgedFromWhenTheScheduleWasCreated(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ledger-1.tsv"), "R\t1\n");
        OccurrenceLedger ledger = OccurrenceLedger.read(dir);
        List<Long> ticks = new java.util.ArrayList<>();
        for (long x = 4_000; x <= 25_000; x += 1000) {
            ticks.add(x);
        }
        assertEquals(22, ticks.size());
        List<long[]> faults = List.of(new long[] {9_000, 0}, new long[] {14_000, 1}, new long[] {20_000, 0});
        assertEquals("", window(ledger, ticks, faults, 100, 3_200), "created late, judged from then");
        assertFalse(window(ledger, ticks, faults, 100, 2_900).isEmpty(), "a second was dropped after the creation");
        assertFalse(window(ledger, ticks, faults, 4_000, 4_100).isEmpty(), "the first came with the creation");
        assertFalse(window(ledger, ticks, List.of(new long[] {25_000, 0}), 100, 3_200).isEmpty(),
                "a fault after the last occurrence");
        assertFalse(window(ledger, List.of(), List.of(), 100, 3_200).isEmpty(), "no occurrence");
    }

    private static String window(OccurrenceLedger ledger, List<Long> ticks, List<long[]> faults, long sent,
                                 long answered) {
        Schedule tick = Schedule.every("tick", Duration.ofSeconds(1)).eventType("T").build();
        ScheduleInfo info = new ScheduleInfo(tick, null, null, 0, 0);
        return new OccurrenceReport(new OccurrenceChaosRun.Settings(25, 1, 1, 3, 2, 1, 8, 2000, 300), ledger, Set.of(),
                ticks, ticks, List.of(), info, info, List.of(), faults, sent, answered, 0, 0).windowShortfall();
    }

    private static Delayed delayed(String id, String execution, long due, Answer cancelled) {
        Delayed d = new Delayed(id, execution, due);
        d.published = Answer.TRUE;
        d.cancelled = cancelled;
        return d;
    }
}
