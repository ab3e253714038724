package dev.workflowworker.redis;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both modes on a real local Redis Cluster of three masters with a replica each, reached through
 * the {@code redis-cluster://} URL of docs/redis-cluster.md: the shared stream in one slot, the partitions spread
 * evenly over the masters, and processing that carries on through a slot moving under it and a
 * master killed and replaced by its replica. Completions and order are judged from a ledger the
 * handlers write.
 */
// Persistent nodes: a replica killed and started again comes back with what it had.
@SpawnedCluster(replicas = 1, args = {"--appendonly", "yes", "--appendfsync", "always"},
        before = SpawnedCluster.Before.EMPTY)
class RedisClusterTest {

    private static SpawnedRedisCluster cluster;

    private final List<WorkerService> services = new ArrayList<>();
    /** Per execution id, the index of every completed event, in completion order. */
    private final ConcurrentHashMap<String, List<Integer>> completions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> holders = new ConcurrentHashMap<>();

    @AfterEach
    void closeServices() {
        services.forEach(WorkerService::close);
    }

    private WorkerService service(RedisOptions options, Consumer<EventContext> work) {
        RedisEventTransport transport = RedisEventTransport.create(options);
        WorkerService s = WorkerService.builder()
                .transport(transport)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> ledger(ctx, work)).build())
                .workerCount(2)
                .concurrencyLimit(8)
                .pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30))
                .maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(20))
                .build();
        services.add(s);
        s.start();
        return s;
    }

    private void ledger(EventContext ctx, Consumer<EventContext> work) {
        String key = ctx.event().executionId();
        int index = ((Number) ctx.payload().get("index")).intValue();
        if (holders.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        try {
            work.accept(ctx);
            runs.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
            List<Integer> c = completions.computeIfAbsent(key, k -> new ArrayList<>());
            synchronized (c) {
                c.add(index);
            }
        } finally {
            holders.get(key).decrementAndGet();
        }
    }

    private static List<WorkflowEvent> events(int executions, int perExecution, int from) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (int i = from; i < from + perExecution; i++) {
            for (int e = 0; e < executions; e++) {
                out.add(WorkflowEvent.builder("STEP").eventId("x" + e + "-" + i).executionId("exec-" + e)
                        .payload(Map.of("index", i)).build());
            }
        }
        return out;
    }

    private int completed() {
        return completions.values().stream().mapToInt(l -> {
            synchronized (l) {
                return l.size();
            }
        }).sum();
    }

    private void assertEachOnceInOrder(int executions, int perExecution) {
        assertEquals(0, overlaps.get(), "two handlers at once for one execution");
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perExecution; i++) {
            expected.add(i);
        }
        for (int e = 0; e < executions; e++) {
            assertEquals(expected, completions.get("exec-" + e), "completions of exec-" + e);
        }
    }

    @Test
    void theSharedStreamRunsWithAllItsKeysInTheStreamsSlot() throws Exception {
        RedisOptions options = cluster.options().partitions(0).stream("cluster:shared").build();
        int slot = JedisClusterCRC16.getSlot(options.stream());
        assertEquals(slot, JedisClusterCRC16.getSlot(options.deadLetterStream()));
        assertEquals(slot, JedisClusterCRC16.getSlot(options.retryKey()));
        assertEquals(slot, JedisClusterCRC16.getSlot(options.lockKey("exec-1")));
        assertEquals(slot, JedisClusterCRC16.getSlot(options.processedKey("x")));
        WorkerService s = service(options, ctx -> {
            if (ctx.event().eventId().equals("poison")) {
                throw new PermanentWorkflowException("poison on purpose");
            }
        });
        s.publisher().publishAll(events(20, 10, 0));
        s.publisher().publish(WorkflowEvent.builder("STEP").eventId("poison").executionId("exec-poison")
                .payload(Map.of("index", 0)).build());
        Await.until(Duration.ofSeconds(60), () -> completed() == 200, () -> "completed " + completed() + " of 200");
        try (RedisClusterClient c = cluster.client()) {
            Await.until(Duration.ofSeconds(10), () -> c.exists(options.deadLetterStream())
                    && c.xlen(options.deadLetterStream()) == 1, () -> "no dead letter in " + options.deadLetterStream());
        }
        runs.forEach((id, n) -> assertEquals(1, n.get(), "runs of " + id));
    }

    @Test
    void partitionsSpreadEvenlyOverTheMastersAndKeepPerKeyOrder() throws Exception {
        RedisOptions options = cluster.options().stream("cluster:ordered").partitions(16)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        Map<Integer, Integer> perMaster = new HashMap<>();
        for (int i = 0; i < 16; i++) {
            perMaster.merge(cluster.masterOf(options.partitionStream(i)).port(), 1, Integer::sum);
        }
        assertEquals(3, perMaster.size(), "partitions on every master: " + perMaster);
        // An even share is 16/3: each master holds 5 or 6.
        perMaster.values().forEach(n -> assertTrue(n == 5 || n == 6, "partitions per master: " + perMaster));

        WorkerService a = service(options, ctx -> { });
        service(options, ctx -> { });
        a.publisher().publishAll(events(30, 10, 0));
        Await.until(Duration.ofSeconds(60), () -> completed() == 300, () -> "completed " + completed() + " of 300");
        assertEachOnceInOrder(30, 10);
    }

    @Test
    void processingCarriesOnWhileAPartitionsSlotMovesToAnotherMaster() throws Exception {
        RedisOptions options = cluster.options().stream("cluster:moving").partitions(6)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        // Event 5 of every execution waits until the slot has moved: the move happens while
        // events are running, buffered and pending, and their commits go to the slot's new master.
        java.util.concurrent.CountDownLatch moved = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        WorkerService a = service(options, holdEventFiveUntil(moved, running));
        a.publisher().publishAll(events(12, 20, 0));
        assertTrue(running.await(30, java.util.concurrent.TimeUnit.SECONDS), "no event 5 started");
        int slot = JedisClusterCRC16.getSlot(options.partitionStream(0));
        SpawnedRedisServer from = cluster.masterOfSlot(slot);
        SpawnedRedisServer to = cluster.masters().stream().filter(m -> m != from).findFirst().orElseThrow();
        try {
            cluster.moveSlot(slot, to);
        } finally {
            moved.countDown();
        }
        a.publisher().publishAll(events(12, 20, 20));
        Await.until(Duration.ofSeconds(60), () -> completed() == 480, () -> "completed " + completed() + " of 480");
        assertEquals(to.port(), cluster.masterOfSlot(slot).port());
        assertEachOnceInOrder(12, 40);
    }

    @Test
    void noEventIsLostAndOrderHoldsWhenAMasterIsKilledAndItsReplicaTakesOver() throws Exception {
        throughAFault("cluster:failover", 0, master -> {
            cluster.killMasterAndAwaitFailover(master, Duration.ofSeconds(30));
            // Until the old master is back, as the new one's replica, no write of its slots can
            // reach a replica: with waitForReplicas(1) they fail, and the service retries them.
            master.start();
        });
    }

    @Test
    void aFrozenMasterIsReplacedAndProcessingCarriesOnWhenItWakesAsAReplica() throws Exception {
        throughAFault("cluster:frozen", 1, master -> cluster.freezeMasterUntilReplaced(master, Duration.ofSeconds(30)));
    }

    /**
     * Two instances process 12 executions x 40 events with waitForReplicas(1); while event 5 of
     * every execution runs, {@code fault} strikes the master of partition {@code partition}.
     * Nothing may be lost, no two handlers may run for one key, and order holds.
     */
    private void throughAFault(String stream, int partition, Consumer<SpawnedRedisServer> fault) throws Exception {
        RedisOptions options = cluster.options().stream(stream).partitions(6)
                .partitionLeaseTtl(Duration.ofSeconds(2))
                .waitForReplicas(1, Duration.ofMillis(500)).build();
        java.util.concurrent.CountDownLatch struck = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        WorkerService a = service(options, holdEventFiveUntil(struck, running));
        service(options, ctx -> { });
        publishUntilAccepted(a, events(12, 20, 0));
        assertTrue(running.await(30, java.util.concurrent.TimeUnit.SECONDS), "no event 5 started");
        SpawnedRedisServer master = cluster.masterOf(options.partitionStream(partition));
        try {
            fault.accept(master);
            cluster.awaitHealthy(Duration.ofSeconds(30));
        } finally {
            struck.countDown();
        }
        publishUntilAccepted(a, events(12, 20, 20));
        Await.until(Duration.ofSeconds(90), () -> distinctCompleted() == 480,
                () -> "completed " + distinctCompleted() + " distinct of 480");
        assertInOrderAllowingReruns(12, 40);
    }

    /**
     * What waitForReplicas buys, shown on one partition: while its master's replica is down, a
     * publish that waits fails, one that does not is acknowledged; the master dies, the replica
     * comes back with what it had and takes over, and the acknowledged event is gone.
     */
    @Test
    void withoutWaitingAnAcknowledgedPublishIsLostInAFailoverAndWithWaitingItFailsInstead() throws Exception {
        RedisOptions plainOptions = cluster.options().stream("cluster:wait").partitions(3).build();
        RedisOptions waitingOptions = plainOptions.toBuilder().waitForReplicas(1, Duration.ofMillis(300)).build();
        String exec = "exec-0";
        String key = plainOptions.partitionStream(PartitionRouting.partitionOf(exec, 3));
        SpawnedRedisServer master = cluster.masterOf(key);
        SpawnedRedisServer replica = cluster.replicaOf(master);
        try (RedisEventTransport waiting = RedisEventTransport.create(waitingOptions);
             RedisEventTransport plain = RedisEventTransport.create(plainOptions)) {
            waiting.publish(event("before", exec));
            replica.kill();
            RedisUnavailableException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    RedisUnavailableException.class, () -> waiting.publish(event("waited", exec)));
            assertTrue(refused.getMessage().contains("reached only 0 of 1 replica"), refused.getMessage());
            plain.publish(event("unwaited", exec));
            master.kill();
            replica.start();
            cluster.awaitNewMasterOfSlot(JedisClusterCRC16.getSlot(key), master, Duration.ofSeconds(30));
            master.start();
            cluster.awaitHealthy(Duration.ofSeconds(30));
            try (RedisClusterClient c = cluster.client()) {
                List<String> ids = c.xrange(key, (redis.clients.jedis.StreamEntryID) null, null).stream()
                        .map(e -> PartitionEntries.eventId(e.getFields())).toList();
                // "waited" reached the master too, but its publisher was told it failed.
                assertEquals(List.of("before"), ids, "entries of " + key + " after the failover");
            }
        }
    }

    @Test
    void theAdminListsReplaysAndCountsAcrossThePartitionsOnEveryMaster() throws Exception {
        RedisOptions options = cluster.options().stream("cluster:admin").partitions(6)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        java.util.Set<String> poisoned = ConcurrentHashMap.newKeySet();
        WorkerService s = service(options, ctx -> {
            // Poison the first time only: a replayed event then succeeds.
            if (ctx.event().eventId().startsWith("bad-") && poisoned.add(ctx.event().eventId())) {
                throw new PermanentWorkflowException("bad on purpose");
            }
        });
        List<WorkflowEvent> bad = new ArrayList<>();
        for (int e = 0; e < 12; e++) {
            bad.add(WorkflowEvent.builder("STEP").eventId("bad-" + e).executionId("exec-" + e)
                    .payload(Map.of("index", 0)).build());
        }
        s.publisher().publishAll(bad);
        try (WorkflowAdmin admin = WorkflowAdmin.create(options)) {
            Await.until(Duration.ofSeconds(30), () -> admin.deadLetterCount() == 12,
                    () -> "dead letters " + admin.deadLetterCount());
            assertEquals(12, admin.deadLetters(null, 100).size());
            WorkflowAdmin.QueueStats stats = admin.stats();
            assertEquals(6, stats.partitions().size(), stats.toString());
            try (WorkflowAdmin unset = WorkflowAdmin.create(cluster.options().stream("cluster:admin").build())) {
                // The count left unset (the default, 16): the partitions are named by the recorded
                // count's hash tags, which on a cluster differ from the default count's.
                assertEquals(6, unset.partitions());
                assertEquals(12, unset.deadLetterCount());
                assertEquals(admin.deadLetters(null, 100), unset.deadLetters(null, 100));
            }
            assertEquals(12, admin.replayAll(1000));
            Await.until(Duration.ofSeconds(30), () -> completed() == 12 && admin.deadLetterCount() == 0,
                    () -> "completed " + completed() + ", dead letters " + admin.deadLetterCount());
        }
    }

    private static WorkflowEvent event(String id, String exec) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId(exec).payload(Map.of("index", 0)).build();
    }

    /**
     * A cooperative handler, as promised handlers must be: event 5 of every execution waits for
     * {@code release}, but stops once its context is cancelled (its partition's lease was lost).
     */
    private static Consumer<EventContext> holdEventFiveUntil(java.util.concurrent.CountDownLatch release,
                                                             java.util.concurrent.CountDownLatch running) {
        return ctx -> {
            if (((Number) ctx.payload().get("index")).intValue() == 5) {
                running.countDown();
                try {
                    while (!release.await(20, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        ctx.throwIfCancelled();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    /**
     * No overlap, and with repeats of one event dropped (an outcome a failover left unknown runs
     * its event again before the key moves on) every execution completed 0..n-1 in order.
     */
    private void assertInOrderAllowingReruns(int executions, int perExecution) {
        assertEquals(0, overlaps.get(), "two handlers at once for one execution");
        for (int e = 0; e < executions; e++) {
            List<Integer> seen = new ArrayList<>();
            for (int index : completions.get("exec-" + e)) {
                if (seen.isEmpty() || seen.get(seen.size() - 1) != index) {
                    seen.add(index);
                }
            }
            assertEquals(java.util.stream.IntStream.range(0, perExecution).boxed().toList(), seen, "exec-" + e + ": "
                    + completions.get("exec-" + e));
        }
    }

    private int distinctCompleted() {
        return runs.size();
    }

    /** A producer's loop: a publish that fails while the cluster fails over is sent again. */
    private static void publishUntilAccepted(WorkerService s, List<WorkflowEvent> events) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                s.publisher().publishAll(events);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                // A producer's pause between tries, part of the producer modelled here, not a wait for a condition.
                java.util.concurrent.TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    @Test
    void delayedEventsAndASchedulePartitionedOverTheMastersRunOnceEachInOrderAndNotEarly() throws Exception {
        timeOnTheCluster(cluster.options().stream("cluster:time").partitions(8)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build(), true);
    }

    /** The shared stream's time keys live in the stream's slot; no order is promised there. */
    @Test
    void delayedEventsAndAScheduleOnTheSharedStreamRunOnceEachAndNotEarly() throws Exception {
        RedisOptions options = cluster.options().stream("cluster:shared-time").partitions(0).build();
        String time = TestInternals.keys(options).sharedTime();
        assertEquals(JedisClusterCRC16.getSlot(options.stream()), JedisClusterCRC16.getSlot(time + ":delayed"));
        timeOnTheCluster(options, false);
    }

    /** Two processes; delayed events published, cancelled and rescheduled from either, a schedule with a limit. */
    private void timeOnTheCluster(RedisOptions options, boolean ordered) throws Exception {
        // Per execution id, the event ids in handler start order; per event id, start and due time.
        ConcurrentHashMap<String, List<String>> order = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, long[]> started = new ConcurrentHashMap<>();
        List<WorkerService> time = new ArrayList<>();
        for (int n = 0; n < 2; n++) {
            WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                    .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                        String due = ctx.event().headers().get(DelayedEvents.DUE_AT_HEADER);
                        started.merge(ctx.event().eventId(), new long[]{System.currentTimeMillis(),
                                due == null ? -1 : Instant.parse(due).toEpochMilli(), 1}, (a, b) -> {
                                    a[2]++;
                                    return a;
                                });
                        List<String> l = order.computeIfAbsent(ctx.event().executionId(), k -> new ArrayList<>());
                        synchronized (l) {
                            l.add(ctx.event().eventId());
                        }
                    }).build())
                    .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
            services.add(s);
            time.add(s);
            s.start();
        }
        DelayedEvents delayed = time.get(0).delayed().orElseThrow();
        List<String> expectedRun = new ArrayList<>();
        // Due in an hour, so that they still wait however slowly the publishes below go.
        for (String id : List.of("to-cancel", "to-move")) {
            delayed.publishAfter(WorkflowEvent.builder("STEP").eventId(id).executionId("texec-" + id).build(),
                    Duration.ofHours(1));
        }
        for (int e = 0; e < 12; e++) {
            for (int i = 0; i < 3; i++) {
                String id = "d" + e + "-" + i;
                delayed.publishAfter(WorkflowEvent.builder("STEP").eventId(id).executionId("texec-" + e).build(),
                        Duration.ofMillis(300 + 300L * i));
                expectedRun.add(id);
            }
        }
        // Cancel and reschedule from the other process: they find the event wherever its partition lives.
        DelayedEvents other = time.get(1).delayed().orElseThrow();
        assertTrue(other.cancel("to-cancel"));
        assertFalse(other.cancel("to-cancel"));
        assertTrue(other.reschedule("to-move", Instant.now().plusMillis(1200)));
        expectedRun.add("to-move");
        time.get(1).schedules().orElseThrow().put(Schedule.every("tick", Duration.ofSeconds(1)).eventType("STEP")
                .executionId("texec-s").limit(3).build());

        Await.until(Duration.ofSeconds(30), () -> started.keySet().containsAll(expectedRun)
                        && order.getOrDefault("texec-s", List.of()).size() == 3,
                () -> "ran " + started.keySet().size() + " of " + expectedRun.size() + " delayed, and "
                        + order.get("texec-s"));
        assertFalse(started.containsKey("to-cancel"), "cancelled, and ran");
        for (String id : expectedRun) {
            long[] at = started.get(id);
            assertEquals(1, at[2], id + " ran more than once");
            assertTrue(at[0] >= at[1], id + " started " + (at[1] - at[0]) + " ms before its due time");
        }
        for (int e = 0; e < 12 && ordered; e++) {
            List<String> l = order.get("texec-" + e);
            List<String> sorted = new ArrayList<>(l);
            sorted.sort(java.util.Comparator.comparingLong(id -> started.get(id)[1]));
            assertEquals(sorted, l, "texec-" + e + " ran in due order");
        }
        List<String> ticks = order.get("texec-s");
        assertEquals(3, new java.util.HashSet<>(ticks).size(), "three distinct occurrences: " + ticks);
        assertEquals(0, delayed.waiting());
    }
}
