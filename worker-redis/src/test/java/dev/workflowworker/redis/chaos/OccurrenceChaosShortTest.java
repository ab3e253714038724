package dev.workflowworker.redis.chaos;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The occurrence chaos run in short form, inside {@code mvn verify} (about 35 s): schedules firing
 * every second for 25 s and delayed events over 3 worker JVMs, the schedules' owner SIGKILLed
 * twice and Redis restarted once; and on a cluster with {@code waitForReplicas(1)} (about 42 s), a
 * master failover in place of the restart. The 2 minute forms are {@code OccurrenceChaosFullRun}
 * ({@code -Pchaos}). What is checked, and how the expected occurrences are computed:
 * {@link OccurrenceReport}.
 */
class OccurrenceChaosShortTest {

    @Test
    void everyOccurrenceAndDelayedEventCompletesOnceThroughOwnerKillsAndARedisRestart() throws Exception {
        OccurrenceReport r = run(new OccurrenceChaosRun.Settings(25, 4.5, 6, 3, 2, 1, 8, 2_000, 300), "short");
        assertEquals(2, r.takeoverMillis().size(), r.table());
        assertTrue(r.takeoverMillis().stream().allMatch(ms -> ms >= 0), "a killed owner's partition was never taken\n"
                + r.table());
    }

    /**
     * On a 3-master cluster with a replica each and every write waiting for one replica: the
     * schedules' owner SIGKILLed twice and the master serving the schedules' partition (and half the
     * delayed events' executions) SIGKILLed once, its replica promoted.
     */
    @Test
    void onAClusterWithWaitForOneReplicaEveryOccurrenceCompletesOnceThroughOwnerKillsAndAMasterFailover()
            throws Exception {
        OccurrenceReport r = run(new OccurrenceChaosRun.Settings(25, 4.5, 6, 3, 2, 1, 8, 2_000, 300).onCluster(1),
                "cluster-short");
        assertEquals(2, r.takeoverMillis().size(), r.table());
        assertTrue(r.takeoverMillis().stream().allMatch(ms -> ms >= 0), "a killed owner's partition was never taken\n"
                + r.table());
    }

    /** Runs, reports, and checks every promise with its own message, so a failure names the broken one. */
    static OccurrenceReport run(OccurrenceChaosRun.Settings settings, String name) throws Exception {
        OccurrenceReport r = new OccurrenceChaosRun(settings, name).run();
        String table = r.table();
        System.out.println(table);
        Path report = Path.of("target", "occurrence-chaos-" + name + "-report.md");
        Files.writeString(report, table);
        assertEquals("", r.windowShortfall(), "what the run could judge\n" + table);
        assertEquals(0, r.tickMissing(), "tick: missing\n" + table);
        assertEquals(0, r.tickDuplicates(), "tick: duplicates\n" + table);
        assertEquals(0, r.tickExtra(), "tick: extra\n" + table);
        assertEquals(0, r.tickBeforeDue(), "tick: before due\n" + table);
        assertEquals(0, r.tickOrderViolations(), "tick: order\n" + table);
        assertEquals(0, r.onceUnjustifiedSkips(), "tick-once: unjustified skips\n" + table);
        assertTrue(r.onceLastRan(), "tick-once: the latest missed one did not run\n" + table);
        assertEquals(0, r.onceDuplicates(), "tick-once: duplicates\n" + table);
        assertEquals(0, r.onceExtra(), "tick-once: extra\n" + table);
        assertEquals(0, r.onceBeforeDue(), "tick-once: before due\n" + table);
        assertEquals(0, r.onceOrderViolations(), "tick-once: order\n" + table);
        assertTrue(r.onceCountsAgree(), "tick-once: the schedule's counts and the ledger disagree\n" + table);
        assertTrue(r.delayedExpected() > 0, table);
        assertEquals(0, r.delayedMissing(), "delayed: missing\n" + table);
        assertEquals(0, r.delayedDuplicates(), "delayed: duplicates\n" + table);
        assertEquals(0, r.cancelledButRan(), "delayed: cancelled but ran\n" + table);
        assertEquals(0, r.delayedBeforeDue(), "delayed: before due\n" + table);
        assertEquals(0, r.delayedWrongDueHeader(), "delayed: due-at header\n" + table);
        assertEquals(0, r.delayedOrderViolations(), "delayed: order\n" + table);
        assertEquals(0, r.unsettledAtEnd(), "unsettled at end\n" + table);
        assertTrue(r.promisesHold(), table);
        return r;
    }
}
