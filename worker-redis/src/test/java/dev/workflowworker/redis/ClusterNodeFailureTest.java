package dev.workflowworker.redis;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A partitioned stream on a Redis Cluster of three masters, one of which is killed (SIGKILL)
 * mid-run, with events of its partitions running, and stays down: the partitions on the other two
 * keep being read and committed, as the handlers' own ledger shows; the commits of the events
 * that were running on the dead master's partitions fail alone, and those partitions carry on
 * once it is started again, running again only those events (docs/ARCHITECTURE.md, "Redis
 * Cluster"). Masters without replicas and without full coverage, so that the outage lasts exactly
 * as long as the test says and the live masters keep serving.
 */
// Persistent, so the killed master comes back with its partitions' entries and positions.
@SpawnedCluster(args = {"--appendonly", "yes", "--appendfsync", "always", "--cluster-require-full-coverage", "no"})
class ClusterNodeFailureTest {

    private static final int PARTITIONS = 12;
    private static final int EXECUTIONS = 36;

    private static SpawnedRedisCluster cluster;

    private WorkerService service;
    /** Per execution id, the index of every completed event, in completion order: written by the handlers. */
    private final ConcurrentHashMap<String, List<Integer>> completions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    /** Events whose first run waits for {@link #gate}, so that they are running when the master dies. */
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final CountDownLatch gate = new CountDownLatch(1);
    private final CountDownLatch heldRunning = new CountDownLatch(4);
    /** The engine's outcomes by event id, beside the ledger: which commits it was told had landed. */
    private final ConcurrentHashMap<String, List<EventOutcome.Kind>> outcomes = new ConcurrentHashMap<>();

    @AfterEach
    void closeService() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void partitionsOnTheLiveMastersKeepCommittingWhileOneIsDownAndItsOwnCarryOnWhenItIsBack() throws Exception {
        // The ownership round renews every lease in one pipeline, which a dead node fails; the
        // lease is long so that only the reads and commits are on trial here.
        // One worker with room to linger, so that the held events finish into one commit that
        // spans the dead master and the live ones.
        RedisOptions options = cluster.options().stream("cluster:nodefail").partitions(PARTITIONS)
                .partitionLeaseTtl(Duration.ofSeconds(30)).commitLinger(Duration.ofMillis(50)).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    int run = runs.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
                    if (run == 1 && held.contains(ctx.event().eventId())) {
                        heldRunning.countDown();
                        if (!gate.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the gate never opened");
                        }
                    }
                    List<Integer> c = completions.computeIfAbsent(ctx.event().executionId(), k -> new ArrayList<>());
                    synchronized (c) {
                        c.add(((Number) ctx.payload().get("index")).intValue());
                    }
                }).build())
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        outcomes.computeIfAbsent(o.event().eventId(), k -> new CopyOnWriteArrayList<>()).add(o.kind());
                    }
                })
                .workerCount(1)
                .concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30))
                .maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20))
                .build();
        service.start();

        List<String> all = new ArrayList<>();
        for (int e = 0; e < EXECUTIONS; e++) {
            all.add("exec-" + e);
        }
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        List<String> onVictim = new ArrayList<>();
        List<String> elsewhere = new ArrayList<>();
        for (String exec : all) {
            int p = PartitionRouting.partitionOf(exec, PARTITIONS);
            (cluster.masterOf(options.partitionStream(p)) == victim ? onVictim : elsewhere).add(exec);
        }
        assertFalse(onVictim.isEmpty(), "no execution on the victim's partitions");
        assertFalse(elsewhere.isEmpty(), "no execution on the other masters' partitions");

        // Every partition owned, read and committed once before the fault.
        service.publisher().publishAll(events(all, 0, 5));
        awaitCompleted(all, 5, Duration.ofSeconds(60));

        // Event 5 of two of the victim's executions and of two others runs when it dies: they
        // finish together, and their commit goes to the dead node and to a live one.
        List<String> cut = onVictim.subList(0, 2);
        List<String> spared = elsewhere.subList(0, 2);
        List<WorkflowEvent> running = events(cut, 5, 6);
        running.addAll(events(spared, 5, 6));
        running.forEach(e -> held.add(e.eventId()));
        service.publisher().publishAll(running);
        assertTrue(heldRunning.await(30, TimeUnit.SECONDS), "the held events did not start");
        victim.kill();
        assertFalse(victim.isRunning());
        gate.countDown();
        service.publisher().publishAll(events(elsewhere.subList(2, elsewhere.size()), 5, 10));
        service.publisher().publishAll(events(spared, 6, 10));
        // Well inside the lease: progress here is the reads and commits going on without the dead node.
        awaitCompleted(elsewhere, 10, Duration.ofSeconds(20));
        assertFalse(victim.isRunning(), "the live masters' partitions must have gone on while the victim was down");
        for (String exec : onVictim) {
            assertEquals(cut.contains(exec) ? 6 : 5, completed(exec), "completions of " + exec + " while its master was down");
        }

        victim.start();
        cluster.awaitHealthy(Duration.ofSeconds(30));
        service.publisher().publishAll(events(cut, 6, 10));
        service.publisher().publishAll(events(onVictim.subList(2, onVictim.size()), 5, 10));
        service.publisher().publishAll(events(all, 10, 15));
        // The cut events' commits never reached Redis: their partitions reopen and run them again.
        Await.until(Duration.ofSeconds(60), () -> all.stream().allMatch(e -> distinctCompleted(e) == 15),
                () -> "completed " + all.stream().mapToInt(this::distinctCompleted).sum() + " distinct of "
                        + EXECUTIONS * 15);

        List<Integer> inOrder = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            inOrder.add(i);
        }
        for (String exec : all) {
            List<Integer> c = completions.get(exec);
            synchronized (c) {
                List<Integer> expected = new ArrayList<>(inOrder);
                if (cut.contains(exec)) {
                    expected.add(6, 5);
                }
                assertEquals(expected, c, "completions of " + exec);
            }
        }
        List<String> cutIds = events(cut, 5, 6).stream().map(WorkflowEvent::eventId).toList();
        runs.forEach((id, n) -> assertEquals(cutIds.contains(id) ? 2 : 1, n.get(), "runs of " + id));
        assertEquals(EXECUTIONS * 15, runs.size());
        // The live node's commits stood although the dead one's beside them failed: the engine was
        // told they succeeded, and the cut ones succeeded only when run again.
        for (WorkflowEvent e : events(spared, 5, 6)) {
            assertEquals(List.of(EventOutcome.Kind.SUCCEEDED), outcomes.get(e.eventId()), "outcomes of " + e.eventId());
        }
        // A commit whose reply was lost reports nothing, neither a success nor a lost lease (it was
        // not refused): only the rerun reports, once (docs/ARCHITECTURE.md, "Why a stale reader
        // cannot lose, duplicate or reorder", point 6).
        for (String id : cutIds) {
            assertEquals(List.of(EventOutcome.Kind.SUCCEEDED), outcomes.get(id), "outcomes of " + id);
        }
    }

    private int distinctCompleted(String exec) {
        List<Integer> c = completions.get(exec);
        if (c == null) {
            return 0;
        }
        synchronized (c) {
            return (int) c.stream().distinct().count();
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

    private int completed(String exec) {
        List<Integer> c = completions.get(exec);
        if (c == null) {
            return 0;
        }
        synchronized (c) {
            return c.size();
        }
    }

    private void awaitCompleted(List<String> executions, int each, Duration timeout) {
        Await.until(timeout, () -> executions.stream().allMatch(e -> completed(e) >= each), () -> {
            int done = executions.stream().mapToInt(this::completed).sum();
            return "completed " + done + " of " + executions.size() * each;
        });
        assertTrue(executions.stream().allMatch(e -> completed(e) == each), "more completions than events");
    }
}
