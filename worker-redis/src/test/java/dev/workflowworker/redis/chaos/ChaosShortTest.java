package dev.workflowworker.redis.chaos;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chaos run in short form, inside {@code mvn verify}: 2 worker processes, 2 kills, one Redis
 * restart, one CLIENT PAUSE. The full run is {@code ChaosFullRun} ({@code mvn verify -Pchaos}).
 */
class ChaosShortTest {

    @Test
    void noLossNoDoubleCompletionNoOverlapUnderKillsRestartsAndPauses() throws Exception {
        ChaosRun.Report r = run(new ChaosRun.Settings(3_000, 100, 2, 2, 1, 2_000, 150, 1_000, 3_000, 0), "chaos-short-report.md");
        assertEquals(2, r.kills(), r.table());
        assertTrue(r.recoveryMillis().stream().allMatch(ms -> ms >= 0), "a killed worker's work was never reclaimed\n" + r.table());
    }

    @Test
    void partitionedNoLossNoDoubleCompletionNoOverlapAndInOrderUnderKillsRestartsAndPauses() throws Exception {
        ChaosRun.Report r = run(new ChaosRun.Settings(3_000, 100, 2, 2, 1, 2_000, 150, 1_000, 3_000, 8),
                "chaos-short-partitioned-report.md");
        assertEquals(2, r.kills(), r.table());
        assertTrue(r.recoveryMillis().stream().allMatch(ms -> ms >= 0), "a killed worker's partitions were never taken\n"
                + r.table());
    }

    /**
     * Few keys on workers of 64 slots (16 execution ids over 8 partitions): a worker's few-keys
     * batches run as two cohorts, each committed by its own last handler while the other's handlers
     * run (docs/ARCHITECTURE.md, "The engine", few keys), under the same kills, restart and pause;
     * the 8-slot forms never form one. The workers' logs must show cohorts formed.
     */
    @Test
    void partitionedFewKeysInCohortsNoLossNoDoubleCompletionAndInOrderUnderKillsRestartsAndPauses() throws Exception {
        ChaosRun.Report r = run(new ChaosRun.Settings(3_000, 16, 2, 2, 1, 2_000, 300, 1_000, 3_000, 8)
                .withConcurrency(64), "chaos-short-cohorts-report.md");
        assertEquals(2, r.kills(), r.table());
        long cohortLines = ChaosRun.cohortLines();
        System.out.println("cohort log lines: " + cohortLines);
        assertTrue(cohortLines > 0, "no worker formed a cohort: the run did not test them\n" + r.table());
    }

    /**
     * A stale owner: a worker JVM stopped past its leases while the other takes its partitions
     * over and goes on, then resumed. What it read and what it tries to commit must change nothing.
     */
    @Test
    void partitionedAStaleOwnerResumedAfterItsLeasesChangesNothing() throws Exception {
        ChaosRun.Report r = run(new ChaosRun.Settings(3_000, 100, 2, 0, 0, 0, 150, 1_000, 3_000, 8).withFreezes(2),
                "chaos-short-stale-owner-report.md");
        assertEquals(2, r.freezes().freezes(), r.table());
        assertEquals(r.freezes().partitionsHeld(), r.freezes().partitionsTakenOver(),
                "every partition a stopped JVM held is taken over and moves on while it is stopped\n" + r.table());
        assertTrue(r.freezes().heldAtEachStop().size() == 2 && r.freezes().heldAtEachStop().stream().allMatch(n -> n > 0),
                "each stopped JVM held a partition when stopped: " + r.freezes().heldAtEachStop() + "\n" + r.table());
    }

    @Test
    void onARedisClusterWithWaitForReplicasNothingIsLostDoubledOrReorderedThroughAFailoverAndASlotMove()
            throws Exception {
        ChaosRun.Report r = run(ChaosRun.Settings.onCluster(3_000, 100, 2, 1, 1, 1_000, 150, 1_000, 8, 1, 1),
                "chaos-short-cluster-report.md");
        assertEquals(1, r.redisRestarts(), r.table());
    }

    /** Runs, reports, and checks what every form promises: nothing lost or doubled, no stale token, order when partitioned. */
    private static ChaosRun.Report run(ChaosRun.Settings settings, String report) throws Exception {
        ChaosRun.Report r = new ChaosRun(settings).run();
        String table = r.table();
        System.out.println(table);
        ChaosRun.writeReport(r, Path.of("target", report));
        assertEquals(0, r.lost(), table);
        assertEquals(0, r.duplicateCompletions(), table);
        // A frozen JVM's handler that passed its last cancellation check just before SIGSTOP writes when
        // SIGCONT resumes it; no library check can come between the two. The downstream's fencing token
        // refuses that write and the lease check refuses the handler's outcome: the duplicate, order and
        // dead-letter checks here are what "changes nothing" means. No other process may meet the fence.
        assertEquals(0, settings.freezes() == 0 ? r.staleEffects() : r.freezes().staleEffectsOfOthers(), table);
        if (settings.partitions() > 0) {
            assertEquals(0, r.orderViolations(), table);
            assertTrue(r.time().delayedPublished() > 0 && r.time().tickExpected() > 0, table);
            assertEquals(0, r.time().delayedLost(), "delayed: lost\n" + table);
            assertEquals(0, r.time().delayedOrderViolations(), "delayed: order\n" + table);
            assertTrue(r.time().delayedOrderJudged() > 0, "delayed: no order judged\n" + table);
            assertEquals(0, r.time().tickLost(), "schedule: lost\n" + table);
            assertEquals(0, r.time().tickExtra(), "schedule: extra\n" + table);
        }
        assertEquals(0, r.goodDeadLettered(), table);
        assertEquals(r.poison(), r.poisonDeadLettered(), table);
        assertTrue(r.publishedAgain() >= 0, "the producer's transport reported no statistics\n" + table);
        assertTrue(r.poisonDeadLetteredAgainWithinSends(), "poison dead-lettered again: more than the copies sent\n"
                + table);
        assertTrue(r.healthyAtEnd(), table + "\n" + r.finalHealth());
        return r;
    }
}
