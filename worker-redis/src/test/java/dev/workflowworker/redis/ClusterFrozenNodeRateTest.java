package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review (review11b): a master that hangs (SIGSTOP) rather than dies. The partitions on the live
 * masters should keep their pace; every read round still includes the hung node's partitions and
 * waits one socket timeout for them. The handlers count completions themselves.
 */
class ClusterFrozenNodeRateTest {

    private static final int PARTITIONS = 12;
    private static SpawnedRedisCluster cluster;
    private WorkerService service;
    private final AtomicInteger done = new AtomicInteger();

    @BeforeAll
    static void startCluster() {
        cluster = SpawnedRedisCluster.start(3, 0, "--cluster-require-full-coverage", "no");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void closeService() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void liveMastersKeepTheirPaceWhileOneHangs() {
        RedisOptions options = cluster.options().stream("cluster:frozen").partitions(PARTITIONS)
                .partitionLeaseTtl(Duration.ofSeconds(60)).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> done.incrementAndGet()).build())
                .workerCount(1).concurrencyLimit(16).pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30)).maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20)).build();
        service.start();
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        List<String> all = new ArrayList<>();
        List<String> elsewhere = new ArrayList<>();
        for (int e = 0; e < 48; e++) {
            String exec = "exec-" + e;
            all.add(exec);
            if (cluster.masterOf(options.partitionStream(PartitionRouting.partitionOf(exec, PARTITIONS))) != victim) {
                elsewhere.add(exec);
            }
        }
        service.publisher().publishAll(events(all, 0, 1));
        Await.until(Duration.ofSeconds(30), () -> done.get() == all.size(), () -> "warm-up " + done.get());
        List<WorkflowEvent> load = events(elsewhere, 1, 101);
        int before = done.get();
        long t0 = System.nanoTime();
        service.publisher().publishAll(load);
        Await.until(Duration.ofSeconds(60), () -> done.get() - before == load.size(), () -> "healthy " + done.get());
        long healthyMs = (System.nanoTime() - t0) / 1_000_000;

        victim.freeze();
        try {
            List<WorkflowEvent> load2 = events(elsewhere, 101, 201);
            int before2 = done.get();
            long t1 = System.nanoTime();
            service.publisher().publishAll(load2);
            Await.until(Duration.ofSeconds(120), () -> done.get() - before2 == load2.size(), () -> "frozen " + (done.get() - before2));
            long frozenMs = (System.nanoTime() - t1) / 1_000_000;
            System.out.println("REVIEW11B events=" + load.size() + " healthyMs=" + healthyMs + " frozenMs=" + frozenMs);
            assertTrue(frozenMs < Math.max(3_000, 5 * healthyMs), "live masters' events took " + frozenMs
                    + " ms with one master hung, " + healthyMs + " ms healthy");
        } finally {
            victim.thaw();
        }
    }

    private static List<WorkflowEvent> events(List<String> executions, int from, int to) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            for (String exec : executions) {
                out.add(WorkflowEvent.builder("STEP").eventId(exec + "-" + i).executionId(exec)
                        .payload(Map.of("index", i)).build());
            }
        }
        return out;
    }
}
