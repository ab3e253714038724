package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.api.WorkflowAction;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the tests of one failing cluster master share, so that each states only its fault, its
 * options and its handler: a cluster of three masters that keeps serving the slots it still covers,
 * a service on a partitioned stream of it (one worker, 16 slots, quick backoffs), the master that
 * fails (the one holding partition 0) and the executions whose partitions live elsewhere. The
 * handlers' own record of the event ids they ran is the ledger.
 */
@SpawnedCluster(args = {"--cluster-require-full-coverage", "no"})
abstract class ClusterFaultCase {

    static SpawnedRedisCluster cluster;
    WorkerService service;
    /** The ledger: the ids of the events whose handlers ran to the end. */
    final Set<String> ran = ConcurrentHashMap.newKeySet();

    @AfterEach
    void closeService() {
        if (service != null) {
            service.close();
        }
    }

    /** Starts the service on {@code options}; {@code action} handles every event (type STEP). */
    void start(RedisOptions options, WorkflowAction action) {
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", action).build())
                .workerCount(1).concurrencyLimit(16).pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30)).maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20)).build();
        service.start();
    }

    /** Starts the service on {@code options}, its handler recording each event in the ledger. */
    void startRecording(RedisOptions options) {
        start(options, ctx -> ran.add(ctx.event().eventId()));
    }

    /** {@return the master that fails: the one holding partition 0} */
    static SpawnedRedisServer victim(RedisOptions options) {
        return cluster.masterOf(options.partitionStream(0));
    }

    /** {@return executions {@code exec-0} to {@code exec-<n-1>}} */
    static List<String> executions(int n) {
        List<String> out = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            out.add("exec-" + e);
        }
        return out;
    }

    /** {@return whether {@code execution}'s partition lives on the failing master} */
    static boolean onVictim(RedisOptions options, String execution) {
        return cluster.masterOf(options.partitionStream(PartitionRouting.partitionOf(execution, options.partitions())))
                == victim(options);
    }

    /** {@return those of {@code executions} whose partitions live on another master than the failing one} */
    static List<String> elsewhere(RedisOptions options, List<String> executions) {
        List<String> out = new ArrayList<>();
        for (String exec : executions) {
            if (!onVictim(options, exec)) {
                out.add(exec);
            }
        }
        assertFalse(out.isEmpty(), "every execution's partition is on the failing master");
        return out;
    }

    /** {@return one STEP event per execution, ids {@code <execution>-<name>}} */
    static List<WorkflowEvent> events(List<String> executions, Object name) {
        List<WorkflowEvent> out = new ArrayList<>(executions.size());
        for (String exec : executions) {
            out.add(event(exec, name, Map.of("index", name)));
        }
        return out;
    }

    static WorkflowEvent event(String execution, Object name, Map<String, Object> payload) {
        return WorkflowEvent.builder("STEP").eventId(execution + "-" + name).executionId(execution)
                .payload(payload).build();
    }

    /** Waits until every one of {@code events} is in the ledger. */
    void awaitRan(List<WorkflowEvent> events, Duration within, String what) {
        Await.until(within, () -> events.stream().allMatch(e -> ran.contains(e.eventId())),
                () -> what + ": " + events.stream().filter(e -> ran.contains(e.eventId())).count()
                        + " of " + events.size() + " ran");
    }

    /**
     * With one master failed by {@code fault} (and repaired by {@code repair} after), the live
     * masters' executions run an event each in rounds over four lease TTLs, each round within one
     * TTL: a process that lost its leases (and cannot take them again while a node is down) cannot.
     */
    void liveMastersKeepTheirLeases(RedisOptions options, Runnable fault, Runnable repair, String during) {
        startRecording(options);
        List<String> all = executions(24);
        List<String> live = elsewhere(options, all);
        List<WorkflowEvent> warm = events(all, 0);
        service.publisher().publishAll(warm);
        awaitRan(warm, Duration.ofSeconds(30), "warm-up");

        Duration ttl = options.partitionLeaseTtl();
        fault.run();
        try {
            long end = System.nanoTime() + ttl.multipliedBy(4).toNanos();
            int round = 1;
            while (System.nanoTime() < end) {
                List<WorkflowEvent> batch = events(live, round);
                service.publisher().publishAll(batch);
                awaitRan(batch, ttl, "round " + round + " of the live masters' events, "
                        + (ttl.multipliedBy(4).toNanos() - (end - System.nanoTime())) / 1_000_000 + " ms into the "
                        + during);
                round++;
            }
            assertTrue(round > 4, "only " + round + " rounds");
        } finally {
            repair.run();
        }
    }
}
