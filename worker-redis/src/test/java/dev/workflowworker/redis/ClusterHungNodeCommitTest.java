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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review (review-jnode): ARCHITECTURE says a hung node's in-flight commits "each wait out the
 * socket timeout once". A success of the hung node's partition that goes alone in its commit
 * reaches no node, so the commit's {@code requireAny} throws, and {@code StreamClient.call}, seeing
 * a connection failure, drops every pool, re-reads the slot map and sends the commit to the hung
 * node again: the settler (one thread per worker, which every key's next event waits on) is held
 * for two socket timeouts or more, and the live masters' keys with it. The handlers' own record of
 * the events they ran is the ledger; a live key's second event runs only once its first is
 * committed.
 */
class ClusterHungNodeCommitTest {

    private static final int PARTITIONS = 6;
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(2);
    private static SpawnedRedisCluster cluster;
    private WorkerService service;
    private final Set<String> ran = ConcurrentHashMap.newKeySet();
    private final CountDownLatch blockedStarted = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

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
    void aHungNodesInFlightCommitHoldsTheLiveKeysForAboutOneSocketTimeout() throws InterruptedException {
        RedisOptions options = cluster.options().stream("cluster:hungcommit").partitions(PARTITIONS)
                .partitionLeaseTtl(Duration.ofSeconds(60)).socketTimeout(SOCKET_TIMEOUT).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    if (Boolean.TRUE.equals(ctx.event().payload().get("block"))) {
                        blockedStarted.countDown();
                        try {
                            release.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    ran.add(ctx.event().eventId());
                }).build())
                .workerCount(1).concurrencyLimit(16).pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30)).maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20)).build();
        service.start();
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        String onVictim = null;
        List<String> live = new ArrayList<>();
        for (int e = 0; e < 24; e++) {
            String exec = "exec-" + e;
            if (cluster.masterOf(options.partitionStream(PartitionRouting.partitionOf(exec, PARTITIONS))) == victim) {
                onVictim = onVictim == null ? exec : onVictim;
            } else {
                live.add(exec);
            }
        }
        assertTrue(onVictim != null && !live.isEmpty());
        List<String> all = new ArrayList<>(live);
        all.add(onVictim);
        List<WorkflowEvent> warm = new ArrayList<>();
        for (String exec : all) {
            warm.add(event(exec, "warm", false));
        }
        service.publisher().publishAll(warm);
        awaitRan(warm, Duration.ofSeconds(30), "warm-up");

        service.publisher().publishAll(List.of(event(onVictim, "blocked", true)));
        assertTrue(blockedStarted.await(30, TimeUnit.SECONDS), "the blocked handler never started");
        victim.freeze();
        try {
            release.countDown(); // its success goes to the settler alone: a commit to the hung node only
            List<WorkflowEvent> firsts = new ArrayList<>();
            List<WorkflowEvent> seconds = new ArrayList<>();
            for (String exec : live) {
                firsts.add(event(exec, "first", false));
                seconds.add(event(exec, "second", false));
            }
            long t0 = System.nanoTime();
            service.publisher().publishAll(firsts);
            service.publisher().publishAll(seconds);
            awaitRan(seconds, Duration.ofSeconds(60), "the live keys' second events");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("REVIEW-JNODE hung-commit liveSecondEventsMs=" + ms + " socketTimeoutMs="
                    + SOCKET_TIMEOUT.toMillis());
            assertFalse(ms > SOCKET_TIMEOUT.toMillis() * 3 / 2, "the live keys' second events ran " + ms
                    + " ms after they were published with one in-flight commit on a hung master (socket timeout "
                    + SOCKET_TIMEOUT.toMillis() + " ms)");
        } finally {
            victim.thaw();
        }
    }

    private void awaitRan(List<WorkflowEvent> events, Duration within, String what) {
        Await.until(within, () -> events.stream().allMatch(e -> ran.contains(e.eventId())),
                () -> what + ": " + events.stream().filter(e -> ran.contains(e.eventId())).count() + " of "
                        + events.size() + " ran");
    }

    private static WorkflowEvent event(String exec, String name, boolean block) {
        return WorkflowEvent.builder("STEP").eventId(exec + "-" + name).executionId(exec)
                .payload(Map.of("block", block)).build();
    }
}
