package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster whose servers lack sharded pub/sub (as before Redis 7; here SSUBSCRIBE and SPUBLISH
 * are renamed away): publishes still succeed, and the reader falls back to one blocking read per
 * owned partition, so an event into an idle partition still runs at once.
 */
@SpawnedCluster(args = {"--rename-command", "SSUBSCRIBE", "", "--rename-command", "SPUBLISH", ""})
class ClusterWithoutShardedPubSubTest {

    private static SpawnedRedisCluster cluster;

    @Test
    void withoutShardedPubSubTheReaderWaitsPerPartitionAndIdleEventsStillRunPromptly() throws Exception {
        int p = 8;
        RedisOptions options = cluster.options().stream("old").partitions(p).build();
        Map<String, CountDownLatch> latches = new ConcurrentHashMap<>();
        RedisEventTransport transport = RedisEventTransport.create(options);
        try (WorkerService s = WorkerService.builder().transport(transport)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    CountDownLatch l = latches.get(ctx.event().eventId());
                    if (l != null) {
                        l.countDown();
                    }
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(500)).build()) {
            s.start();
            Await.until(Duration.ofSeconds(20), () -> transport.ownedPartitions().size() == p, "every partition owned");
            for (int i = 0; i < 10; i++) {
                String id = "old-" + i;
                CountDownLatch l = new CountDownLatch(1);
                latches.put(id, l);
                s.publisher().publish(WorkflowEvent.builder("STEP").eventId(id).executionId("exec-" + id).build());
                // Well under the 100 ms poll of the node waiters would be luck; under 2 s is the per-partition wait.
                assertTrue(l.await(2, TimeUnit.SECONDS), id + " handled within 2 s");
            }
            long waitThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith("workflow-worker-partition-wait-")
                            && t.getName().endsWith("-old"))
                    .count();
            assertTrue(waitThreads > 3, waitThreads + " wait threads: the per-partition fallback, not one per node");
        }
    }
}
