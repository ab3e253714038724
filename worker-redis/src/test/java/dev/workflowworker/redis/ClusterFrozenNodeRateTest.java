package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review (review11b): a master that hangs (SIGSTOP) rather than dies. The partitions on the live
 * masters should keep their pace; every read round still includes the hung node's partitions and
 * waits one socket timeout for them.
 */
class ClusterFrozenNodeRateTest extends ClusterFaultCase {

    @Test
    void liveMastersKeepTheirPaceWhileOneHangs() {
        RedisOptions options = cluster.options().stream("cluster:frozen").partitions(12)
                .partitionLeaseTtl(Duration.ofSeconds(60)).build();
        startRecording(options);
        SpawnedRedisServer victim = victim(options);
        List<String> all = executions(48);
        List<String> live = elsewhere(options, all);
        List<WorkflowEvent> warm = events(all, 0);
        service.publisher().publishAll(warm);
        awaitRan(warm, Duration.ofSeconds(30), "warm-up");
        long healthyMs = runMs(rounds(live, 1, 101), Duration.ofSeconds(60), "healthy");

        victim.freeze();
        try {
            List<WorkflowEvent> load = rounds(live, 101, 201);
            long frozenMs = runMs(load, Duration.ofSeconds(120), "frozen");
            System.out.println("REVIEW11B events=" + load.size() + " healthyMs=" + healthyMs + " frozenMs=" + frozenMs);
            assertTrue(frozenMs < Math.max(3_000, 5 * healthyMs), "live masters' events took " + frozenMs
                    + " ms with one master hung, " + healthyMs + " ms healthy");
        } finally {
            victim.thaw();
        }
    }

    /** {@return milliseconds from publishing {@code load} until all of it ran} */
    private long runMs(List<WorkflowEvent> load, Duration within, String what) {
        long t0 = System.nanoTime();
        service.publisher().publishAll(load);
        awaitRan(load, within, what);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** {@return an event per execution in each round from {@code from} to {@code to} (exclusive), round after round} */
    private static List<WorkflowEvent> rounds(List<String> executions, int from, int to) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.addAll(events(executions, i));
        }
        return out;
    }
}
