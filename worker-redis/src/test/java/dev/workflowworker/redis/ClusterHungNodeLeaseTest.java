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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review (review-jnode): as ClusterNodeOutageLeaseTest, but the master hangs (SIGSTOP) instead of
 * dying. The reader leaves the hung node out (NodeHealth), but the ownership round does not: every
 * round waits a socket timeout for the hung node's calls before it handles the live nodes'
 * renewals, and the next round starts a tick after that. With 2 × socket timeout + tick past
 * 0.9 × TTL (here 2 × 800 + 400 ms against 1,800 ms) the live masters' leases run out locally; and
 * since a round that reached every node but one throws before taking partitions, nothing takes
 * them again until the hung master answers. The handlers' own record of completed event ids is
 * the ledger.
 */
class ClusterHungNodeLeaseTest {

    private static final int PARTITIONS = 6;
    private static final Duration LEASE_TTL = Duration.ofSeconds(2);
    private static SpawnedRedisCluster cluster;
    private WorkerService service;
    private final Set<String> completed = ConcurrentHashMap.newKeySet();

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
    void liveMastersPartitionsKeepTheirLeasesWhileAnotherHangs() {
        RedisOptions options = cluster.options().stream("cluster:hung").partitions(PARTITIONS)
                .partitionLeaseTtl(LEASE_TTL).socketTimeout(Duration.ofMillis(800)).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> completed.add(ctx.event().eventId())).build())
                .workerCount(1).concurrencyLimit(16).pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30)).maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20)).build();
        service.start();
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        List<String> all = new ArrayList<>();
        List<String> elsewhere = new ArrayList<>();
        for (int e = 0; e < 24; e++) {
            String exec = "exec-" + e;
            all.add(exec);
            if (cluster.masterOf(options.partitionStream(PartitionRouting.partitionOf(exec, PARTITIONS))) != victim) {
                elsewhere.add(exec);
            }
        }
        assertFalse(elsewhere.isEmpty());
        List<WorkflowEvent> warm = events(all, 0);
        service.publisher().publishAll(warm);
        awaitAll(warm, Duration.ofSeconds(30), "warm-up");

        victim.freeze();
        try {
            // Rounds over four lease TTLs: each must complete within one TTL, which a process
            // that lost its leases (and cannot take them again while a node is down) cannot.
            long end = System.nanoTime() + LEASE_TTL.multipliedBy(4).toNanos();
            int round = 1;
            while (System.nanoTime() < end) {
                List<WorkflowEvent> batch = events(elsewhere, round);
                service.publisher().publishAll(batch);
                awaitAll(batch, LEASE_TTL, "round " + round + " of the live masters' events, "
                        + (LEASE_TTL.multipliedBy(4).toNanos() - (end - System.nanoTime())) / 1_000_000
                        + " ms into the hang");
                round++;
            }
            assertTrue(round > 4, "only " + round + " rounds");
        } finally {
            victim.thaw();
        }
    }

    private void awaitAll(List<WorkflowEvent> events, Duration within, String what) {
        Await.until(within, () -> events.stream().allMatch(e -> completed.contains(e.eventId())),
                () -> what + ": " + events.stream().filter(e -> completed.contains(e.eventId())).count()
                        + " of " + events.size() + " completed");
    }

    private static List<WorkflowEvent> events(List<String> executions, int index) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (String exec : executions) {
            out.add(WorkflowEvent.builder("STEP").eventId(exec + "-" + index).executionId(exec)
                    .payload(Map.of("index", index)).build());
        }
        return out;
    }
}
