package dev.workflowworker.redis.chaos;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The full chaos run: 50,000 events over 500 execution ids, 3 worker processes, 5 kills, one
 * Redis restart, a 5 s CLIENT PAUSE. Not part of the default build (its name does not end in
 * Test); run it with {@code mvn -pl worker-redis -am verify -Pchaos}.
 */
class ChaosFullRun {

    @Test
    void fullChaosRun() throws Exception {
        ChaosRun.Report r = new ChaosRun(new ChaosRun.Settings(50_000, 500, 3, 5, 1, 5_000, 1_000, 2_000, 5_000, 0)).run();
        String table = r.table();
        System.out.println(table);
        ChaosRun.writeReport(r, Path.of("target", "chaos-full-report.md"));
        assertTrue(r.promisesHold(), table + "\n" + r.finalHealth());
    }

    @Test
    void fullPartitionedChaosRun() throws Exception {
        ChaosRun.Report r = new ChaosRun(new ChaosRun.Settings(50_000, 500, 3, 5, 1, 5_000, 1_000, 2_000, 5_000, 16))
                .run();
        String table = r.table();
        System.out.println(table);
        ChaosRun.writeReport(r, Path.of("target", "chaos-full-partitioned-report.md"));
        assertTrue(r.promisesHold(), table + "\n" + r.finalHealth());
    }
}
