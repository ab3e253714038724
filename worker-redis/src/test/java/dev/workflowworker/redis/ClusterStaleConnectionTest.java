package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review (review11b): a healthy cluster node whose client connections were closed by the server
 * (CLIENT KILL here; a server {@code timeout}, a proxy's idle cut or a restart do the same) leaves
 * dead connections in the pool. Before per-node replies a commit that borrowed one failed as a whole
 * inside {@code StreamClient.call}, which cleared the idle connections and sent it again; with
 * {@code evalEach} the failed call is neither cleared nor sent again, the partition rewinds and an
 * event whose handler succeeded runs a second time. The handlers' own ledger counts runs.
 */
@SpawnedCluster
class ClusterStaleConnectionTest {

    private static final int PARTITIONS = 6;
    private static SpawnedRedisCluster cluster;
    private WorkerService service;
    private final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final Set<String> gated = ConcurrentHashMap.newKeySet();
    private final AtomicReference<CountDownLatch> running = new AtomicReference<>(new CountDownLatch(1));
    private final AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(1));

    @AfterEach
    void closeService() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void aCommitOnAPooledConnectionTheNodeClosedDoesNotRunItsEventAgain() throws Exception {
        RedisOptions options = cluster.options().stream("cluster:stale").partitions(PARTITIONS)
                .partitionLeaseTtl(Duration.ofSeconds(30)).commitLinger(Duration.ofMillis(50)).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    String id = ctx.event().eventId();
                    int run = runs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                    if (run == 1 && gated.contains(id)) {
                        running.get().countDown();
                        if (!gate.get().await(30, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("gate never opened");
                        }
                    }
                }).build())
                .workerCount(1).concurrencyLimit(16).pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30)).maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20)).build();
        service.start();

        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        List<String> onVictim = new ArrayList<>();
        List<String> elsewhere = new ArrayList<>();
        for (int e = 0; onVictim.size() < 4 || elsewhere.size() < 4; e++) {
            String exec = "exec-" + e;
            (cluster.masterOf(options.partitionStream(PartitionRouting.partitionOf(exec, PARTITIONS))) == victim
                    ? onVictim : elsewhere).add(exec);
        }
        assertFalse(onVictim.isEmpty());
        // Warm up: many events at once, so that the pool holds several connections to the victim.
        List<WorkflowEvent> warm = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            for (String exec : onVictim) {
                warm.add(event(exec, "warm-" + i));
            }
        }
        service.publisher().publishAll(warm);
        Await.until(Duration.ofSeconds(30), () -> runs.size() == warm.size(), () -> "warm-up ran " + runs.size());

        int rounds = 8;
        List<String> ids = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            String exec = onVictim.get(r % onVictim.size());
            WorkflowEvent e = event(exec, "gated-" + r);
            // With it, one on a live node: both finish together, so their commit spans two nodes.
            WorkflowEvent other = event(elsewhere.get(r % elsewhere.size()), "gated-" + r);
            ids.add(e.eventId());
            ids.add(other.eventId());
            gated.add(e.eventId());
            gated.add(other.eventId());
            running.set(new CountDownLatch(2));
            gate.set(new CountDownLatch(1));
            service.publisher().publishAll(List.of(e, other));
            assertTrue(running.get().await(30, TimeUnit.SECONDS), "gated event did not start");
            // The node is healthy; only the connections it had open to clients are gone.
            try (Jedis j = victim.jedis()) {
                j.sendCommand(redis.clients.jedis.Protocol.Command.CLIENT, "KILL", "TYPE", "normal", "SKIPME", "yes");
            }
            gate.get().countDown();
            String id = e.eventId();
            Await.until(Duration.ofSeconds(30), () -> runs.get(id).get() >= 1, () -> "gated event " + id);
            // The commit of both (and any rewind and re-run) has happened by the time a later event
            // of the victim's key ran: the key waits for the gated event's settlement.
            // A later event of the same key completes only after the gated one's commit has settled
            // (landed, or rewound and run again).
            WorkflowEvent after = event(exec, "after-" + r);
            ids.add(after.eventId());
            service.publisher().publishAll(List.of(after));
            Await.until(Duration.ofSeconds(30), () -> runs.containsKey(after.eventId()), () -> "after " + after.eventId());
        }
        Map<String, Integer> twice = new java.util.TreeMap<>();
        for (String id : ids) {
            int n = runs.get(id).get();
            if (n != 1) {
                twice.put(id, n);
            }
        }
        assertEquals(Map.of(), twice, "events whose handler succeeded and ran again (runs by id)");
    }

    private static WorkflowEvent event(String exec, String suffix) {
        return WorkflowEvent.builder("STEP").eventId(exec + "-" + suffix).executionId(exec)
                .payload(Map.of("n", 1)).build();
    }
}
