package dev.workflowworker.redis;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.internal.partitioned.Partitions;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partitioned streams on a real Redis: per-key order under contention and retries, ownership
 * moving between instances, a lost lease refused at commit, a retry's hold surviving a handover.
 * Order and completions are judged from a ledger the handlers write, never from the library's
 * own bookkeeping.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedStreamTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Per execution id, "index@attempt" for every handler start, in start order. */
    private final ConcurrentHashMap<String, List<String>> starts = new ConcurrentHashMap<>();
    /** Per execution id, the index of every event whose handler returned normally. */
    private final ConcurrentHashMap<String, List<Integer>> completions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> holders = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();
    private final Map<WorkerService, RedisEventTransport> transports = new ConcurrentHashMap<>();

    @AfterEach
    void closeServices() {
        services.forEach(WorkerService::close);
    }

    private RedisOptions.Builder options(RedisServer redis, int partitions) {
        return redis.options().partitions(partitions).partitionLeaseTtl(Duration.ofSeconds(2));
    }

    private WorkerService service(RedisOptions options, Consumer<EventContext> work,
                                  UnaryOperator<WorkerService.Builder> custom) {
        RedisEventTransport transport = RedisEventTransport.create(options);
        ActionRuntime.Builder actions = ActionRuntime.builder();
        actions.on("STEP", ctx -> ledger(ctx, work));
        WorkerService.Builder b = WorkerService.builder()
                .transport(transport)
                .runtime(actions.build())
                .workerCount(2)
                .concurrencyLimit(8)
                .pollInterval(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(30))
                .maxBackoff(Duration.ofMillis(100))
                .transientBackoff(Duration.ofMillis(5))
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome outcome) {
                        outcomes.add(outcome);
                    }
                });
        WorkerService s = custom.apply(b).build();
        services.add(s);
        transports.put(s, transport);
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
            List<String> s = starts.computeIfAbsent(key, k -> new ArrayList<>());
            synchronized (s) {
                s.add(index + "@" + ctx.attempt());
            }
            work.accept(ctx);
            List<Integer> c = completions.computeIfAbsent(key, k -> new ArrayList<>());
            synchronized (c) {
                c.add(index);
            }
        } finally {
            holders.get(key).decrementAndGet();
        }
    }

    private static List<WorkflowEvent> events(int executions, int perExecution) {
        List<WorkflowEvent> out = new ArrayList<>();
        for (int i = 0; i < perExecution; i++) {
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

    private void assertInOrder(int executions, int perExecution) {
        assertEquals(0, overlaps.get(), "two handlers at once for one execution");
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perExecution; i++) {
            expected.add(i);
        }
        for (int e = 0; e < executions; e++) {
            assertEquals(expected, completions.get("exec-" + e), "completions of exec-" + e + " (starts "
                    + starts.get("exec-" + e) + ")");
        }
    }

    @Test
    void aPartitionedStreamHasNoLockProviderAndRefusesAHostsNamingBoth(RedisServer redis) {
        RedisOptions options = options(redis, 4).build();
        try (RedisEventTransport transport = RedisEventTransport.create(options);
             RedisLockProvider hostLocks = RedisLockProvider.create(options)) {
            assertTrue(transport.locksKeysItself());
            assertTrue(transport.lockProvider().isEmpty(), "nothing to lock per key: the partition lease orders each key");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> WorkerService.builder()
                    .transport(transport).lockProvider(hostLocks)
                    .runtime(ActionRuntime.builder().on("STEP", ctx -> { }).build()).build());
            assertTrue(e.getMessage().startsWith("lockProvider: transport RedisEventTransport hands out"), e.getMessage());
            assertTrue(e.getMessage().contains("partitions(0)"), e.getMessage());
        }
        try (RedisEventTransport shared = RedisEventTransport.create(redis.options().stream("shared-s").partitions(0).build())) {
            assertFalse(shared.locksKeysItself());
            assertTrue(shared.lockProvider().isPresent());
        }
    }

    @Test
    void eventsOfOneExecutionCompleteInPublishOrderUnderContentionAndRetries(RedisServer redis) throws Exception {
        // Every third event fails once, recoverably: its retry must hold its execution's later events back.
        Consumer<EventContext> work = ctx -> {
            int index = ((Number) ctx.payload().get("index")).intValue();
            if (index % 3 == 1 && ctx.attempt() == 1) {
                throw new RecoverableWorkflowException("not yet");
            }
        };
        RedisOptions options = options(redis, 4).build();
        WorkerService a = service(options, work, b -> b);
        service(options, work, b -> b);
        a.publisher().publishAll(events(20, 10));
        Await.until(Duration.ofSeconds(60), () -> completed() == 200, () -> "completed " + completed() + " of 200; "
                + diagnose(redis, options));
        assertInOrder(20, 10);
        for (int e = 0; e < 20; e++) {
            List<String> s = starts.get("exec-" + e);
            assertEquals(13, s.size(), "exec-" + e + " starts: " + s);
            assertEquals("1@1", s.get(1));
            assertEquals("1@2", s.get(2), "the retry of event 1 runs before event 2: " + s);
        }
    }

    @Test
    void partitionsSpreadOverInstancesAsTheyJoinAndMoveAtOnceWhenOneLeaves(RedisServer redis) throws Exception {
        // A long lease: a partition that waited out its TTL would fail the timing below.
        RedisOptions options = redis.options().partitions(8).partitionLeaseTtl(Duration.ofSeconds(30)).build();
        WorkerService a = service(options, ctx -> { }, b -> b);
        RedisEventTransport ta = transportOf(a);
        Await.until(Duration.ofSeconds(5), () -> ta.ownedPartitions().size() == 8, () -> "a owns " + ta.ownedPartitions());
        WorkerService b = service(options, ctx -> { }, x -> x);
        RedisEventTransport tb = transportOf(b);
        Await.until(Duration.ofSeconds(10), () -> ta.ownedPartitions().size() == 4 && tb.ownedPartitions().size() == 4,
                () -> "a owns " + ta.ownedPartitions() + ", b owns " + tb.ownedPartitions());
        WorkerService c = service(options, ctx -> { }, x -> x);
        RedisEventTransport tc = transportOf(c);
        Await.until(Duration.ofSeconds(10), () -> sizes(ta, tb, tc).equals(List.of(2, 3, 3)),
                () -> "owned " + ta.ownedPartitions() + " " + tb.ownedPartitions() + " " + tc.ownedPartitions());
        b.close();
        services.remove(b);
        Await.until(Duration.ofSeconds(5), () -> ta.ownedPartitions().size() + tc.ownedPartitions().size() == 8
                        && ta.ownedPartitions().size() == 4,
                () -> "after b left: a owns " + ta.ownedPartitions() + ", c owns " + tc.ownedPartitions());
        // Every partition is processed by its new owner.
        a.publisher().publishAll(events(30, 3));
        Await.until(Duration.ofSeconds(30), () -> completed() == 90, () -> "completed " + completed() + " of 90");
        assertInOrder(30, 3);
    }

    private String diagnose(RedisServer redis, RedisOptions options) {
        StringBuilder sb = new StringBuilder();
        try (RedisClient c = redis.client()) {
            for (int i = 0; i < options.partitions(); i++) {
                sb.append("\np").append(i).append(": len=").append(c.xlen(options.partitionStream(i)))
                        .append(" unsettled=").append(PartitionKeys.unsettled(c, TestInternals.keys(options), options.partitions())[i])
                        .append(" log=").append(c.hgetAll(PartitionKeys.log(TestInternals.keys(options), i)))
                        .append(" lease=").append(c.get(options.partitionLease(i)))
                        .append(" held=").append(c.hgetAll(options.partitionHeld(i)))
                        .append(" dlq=").append(c.exists(options.partitionDeadLetters(i)) ? c.xlen(options.partitionDeadLetters(i)) : 0);
            }
        }
        for (RedisEventTransport t : transports.values()) {
            Partitions p = TestInternals.partitions(t);
            sb.append("\n").append(p.member()).append(" owns ").append(p.owned()).append(" buffered ")
                    .append(p.sequencer.size()).append(" holds ").append(p.sequencer.holds());
        }
        outcomes.stream().filter(o -> o.event() != null && "exec-1".equals(o.event().executionId()))
                .forEach(o -> sb.append("\n  ").append(o.kind()).append(' ').append(o.event().eventId()).append(" attempt ")
                        .append(o.attempt()).append(o.error() == null ? "" : " " + o.error()));
        completions.forEach((k, v) -> sb.append("\n").append(k).append(" ").append(v).append(" starts ").append(starts.get(k)));
        return sb.toString();
    }

    private static List<Integer> sizes(RedisEventTransport... ts) {
        List<Integer> out = new ArrayList<>();
        for (RedisEventTransport t : ts) {
            out.add(t.ownedPartitions().size());
        }
        out.sort(Integer::compare);
        return out;
    }

    private RedisEventTransport transportOf(WorkerService s) {
        return transports.get(s);
    }

    @Test
    void aPartitionWhoseOwnerDiedIsTakenAfterTheLeaseTtl(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 2).build();
        // A dead owner: its lease stays until the TTL runs out, nobody renews it.
        try (RedisClient client = redis.client()) {
            client.set(options.partitionLease(0), "dead-instance|7", SetParams.setParams().px(1500));
            client.set(options.partitionFence(0), "7");
        }
        long start = System.nanoTime();
        WorkerService s = service(options, ctx -> { }, b -> b);
        RedisEventTransport t = transportOf(s);
        Await.until(Duration.ofSeconds(5), () -> t.ownedPartitions().equals(List.of(1)), () -> "owns " + t.ownedPartitions());
        Await.until(Duration.ofSeconds(10), () -> t.ownedPartitions().size() == 2, () -> "owns " + t.ownedPartitions());
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(1000),
                "the dead owner's partition was taken before its lease ran out");
        CountDownLatch ran = new CountDownLatch(1);
        List<Long> tokens = new CopyOnWriteArrayList<>();
        s.close();
        services.clear();
        WorkerService s2 = service(options, ctx -> {
            tokens.add(ctx.fencingToken());
            ran.countDown();
        }, b -> b);
        // exec-1 routes to partition 1 of 2, so route one to partition 0: find a key that does.
        String key = keyFor(0, 2);
        s2.publisher().publish(WorkflowEvent.builder("STEP").eventId("e").executionId(key)
                .payload(Map.of("index", 0)).build());
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        assertTrue(tokens.get(0) > 7, "the token of partition 0 grew past the dead owner's: " + tokens);
    }

    static String keyFor(int partition, int partitions) {
        for (int i = 0; ; i++) {
            if (PartitionRouting.partitionOf("k" + i, partitions) == partition) {
                return "k" + i;
            }
        }
    }

    @Test
    void aCommitAfterTheLeaseWasTakenIsRefusedAndTheEventRunsAgainUnderTheNextLease(RedisServer redis)
            throws Exception {
        RedisOptions options = options(redis, 1).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        List<Long> tokens = new CopyOnWriteArrayList<>();
        List<Boolean> cancelledSeen = new CopyOnWriteArrayList<>();
        WorkerService s = service(options, ctx -> {
            tokens.add(ctx.fencingToken());
            if (tokens.size() == 1) {
                started.countDown();
                try {
                    proceed.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                // The watchdog cancels within a renewal period of the engine's lock TTL.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!ctx.isCancelled() && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                cancelledSeen.add(ctx.isCancelled());
            }
        }, b -> b.lockTtl(Duration.ofMillis(300)));
        s.publisher().publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("x").payload(Map.of("index", 0))
                .build());
        assertTrue(started.await(10, TimeUnit.SECONDS));
        try (RedisClient client = redis.client()) {
            // Another owner took the partition (as after a pause longer than the lease).
            client.set(options.partitionFence(0), "1000");
            client.set(options.partitionLease(0), "thief|1000", SetParams.setParams().px(1500));
            Await.until(Duration.ofSeconds(5), () -> outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.LEASE_LOST)
                    || !(transportOf(s)).ownedPartitions().contains(0), "the loss noticed");
            proceed.countDown();
            Await.until(Duration.ofSeconds(10), () -> tokens.size() == 2, () -> "runs: " + tokens);
            assertEquals(List.of(true), cancelledSeen, "the first run saw its context cancelled");
            assertTrue(tokens.get(1) > 1000, "the second run holds a later lease: " + tokens);
            assertTrue(outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.LEASE_LOST), "lease loss reported");
            Await.until(Duration.ofSeconds(5), () -> pending(client, options) == 0, "the entry acked once");
        }
        assertEquals(List.of(0), completions.get("x").subList(completions.get("x").size() - 1, completions.get("x").size()));
    }

    /** Entries of partition 0 not settled: read from Redis's own record, not from the transport. */
    private static long pending(RedisClient client, RedisOptions options) {
        return PartitionKeys.unsettled(client, TestInternals.keys(options), options.partitions())[0];
    }

    @Test
    void aRetrysHoldSurvivesAHandoverAndResumesTheKeyAtThatEventWithItsAttempt(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 1).build();
        CountDownLatch failed = new CountDownLatch(1);
        Consumer<EventContext> work = ctx -> {
            int index = ((Number) ctx.payload().get("index")).intValue();
            if (index == 0 && ctx.attempt() == 1) {
                failed.countDown();
                throw new RecoverableWorkflowException("later", Duration.ofSeconds(3));
            }
        };
        WorkerService a = service(options, work, b -> b);
        a.publisher().publishAll(events(1, 3));
        assertTrue(failed.await(10, TimeUnit.SECONDS));
        Await.until(Duration.ofSeconds(5), () -> (transportOf(a)).stats().orElseThrow()
                .retryScheduled() == 1, "the hold recorded");
        a.close();
        services.remove(a);
        assertEquals(List.of("0@1"), starts.get("exec-0"), "events 1 and 2 waited behind the held event 0");
        service(options, work, b -> b);
        Await.until(Duration.ofSeconds(15), () -> completed() == 3, () -> "completed " + completed());
        assertEquals(List.of("0@1", "0@2", "1@1", "2@1"), starts.get("exec-0"));
        assertInOrder(1, 3);
    }

    /** A seed-format producer's raw XADD to the single stream, '' for absent fields. */
    private static void seedXadd(RedisClient client, String stream, String eventId, String executionId, int index) {
        client.xadd(stream, redis.clients.jedis.StreamEntryID.NEW_ENTRY, Map.of(
                "event_id", eventId, "execution_id", executionId, "event_name", "Step", "event_type", "STEP",
                "tenant", "", "timestamp", "", "user_id", "", "payload_json", "{\"index\":" + index + "}"));
    }

    @Test
    void seedFormatEntriesOnTheSingleStreamAreRoutedAndProcessedInOrderExactlyOnce(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 4).build();
        try (RedisClient client = redis.client()) {
            // Written before any instance runs, and more while it runs.
            for (int i = 0; i < 5; i++) {
                for (int e = 0; e < 8; e++) {
                    seedXadd(client, options.stream(), "s" + e + "-" + i, "exec-" + e, i);
                }
            }
            WorkerService s = service(options, ctx -> { }, b -> b);
            for (int i = 5; i < 10; i++) {
                for (int e = 0; e < 8; e++) {
                    seedXadd(client, options.stream(), "s" + e + "-" + i, "exec-" + e, i);
                }
            }
            Await.until(Duration.ofSeconds(30), () -> completed() == 80, () -> "completed " + completed() + " of 80");
            assertInOrder(8, 10);
            // A router that crashed after routing and before acking reads its entries again: here the
            // router group forgets everything it acked, the harshest case. Nothing may be routed twice.
            s.close();
            services.clear();
            client.xgroupSetID(options.stream(), options.routerGroup(), new redis.clients.jedis.StreamEntryID(0, 0));
            service(options, ctx -> { }, b -> b);
            seedXadd(client, options.stream(), "last", "exec-0", 10);
            Await.until(Duration.ofSeconds(30), () -> completed() == 81, () -> "completed " + completed() + " of 81");
            // The router handles the single stream in order, so by the time "last" ran every older
            // entry had been routed again or skipped; the partitions (not trimmed within the test's
            // minute) hold what was routed.
            long routed = 0;
            for (int p = 0; p < 4; p++) {
                routed += client.xlen(options.partitionStream(p));
            }
            assertEquals(81, routed, "entries routed into the partitions for 81 published");
        }
    }

    @Test
    void healthShowsOwnedPartitionsAndIsDegradedWhileLeasesCannotBeRenewed(RedisServer redis) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(redis.isRestartable(), "needs a restartable server");
        RedisOptions options = options(redis, 2).build();
        // A short health window: a transport failure is remembered only this long once reads succeed.
        WorkerService s = service(options, ctx -> { }, b -> b.healthCheckInterval(Duration.ofSeconds(1)));
        Await.until(Duration.ofSeconds(5), () -> s.health().partitions() != null
                        && s.health().partitions().owned().equals(List.of(0, 1)),
                () -> "health " + s.health().toJson());
        assertEquals(dev.workflowworker.api.HealthStatus.HEALTHY, s.health().status());
        assertEquals(2, s.health().partitions().share());
        redis.stop();
        try {
            // Leases count as lost after nine tenths of their TTL without renewal.
            Await.until(Duration.ofSeconds(10), () -> s.health().partitions().owned().isEmpty()
                            && s.health().status() != dev.workflowworker.api.HealthStatus.HEALTHY,
                    () -> "health " + s.health().toJson());
            assertTrue(s.health().partitions().renewalFailing());
        } finally {
            redis.start();
        }
        Await.until(Duration.ofSeconds(15), () -> s.health().partitions().owned().size() == 2
                        && s.health().status() == dev.workflowworker.api.HealthStatus.HEALTHY,
                () -> "health " + s.health().toJson());
    }

    /**
     * Dead letters settle entries by a script of their own; with no success after them nothing
     * else would move the committed position, and a long run of them would stop the partition at
     * its read-ahead bound.
     */
    @Test
    void aRunOfDeadLettersMovesTheCommittedPositionByItself(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 1).build();
        WorkerService s = service(options, ctx -> { }, b -> b);
        for (int i = 0; i < 5; i++) {
            s.publisher().publish(WorkflowEvent.builder("NO_SUCH_ACTION").eventId("poison-" + i).executionId("p-" + i)
                    .build());
        }
        try (RedisClient client = redis.client()) {
            String last = client.xrevrange(options.partitionStream(0), "+", "-", 1).get(0).getID().toString();
            String log = PartitionKeys.log(TestInternals.keys(options), 0);
            String settled = PartitionKeys.settled(TestInternals.keys(options), 0);
            // Both at once, not one after the other: two dead letters' moves of the position are
            // sent from two threads and may land in either order, so the one that reaches the last
            // entry can land before the one that takes the first ids out of the settled set.
            // (the settled set keeps its placeholder, which no position covers)
            Await.until(Duration.ofSeconds(10), () -> last.equals(client.hget(log, "c"))
                            && java.util.Set.of(PartitionKeys.PLACEHOLDER).equals(client.smembers(settled)),
                    () -> "position " + client.hgetAll(log) + ", last entry " + last + ", settled above it "
                            + client.smembers(settled) + ", dead letters " + client.xlen(options.partitionDeadLetters(0)));
            assertEquals(5, client.xlen(options.partitionDeadLetters(0)));
        }
    }

    @Test
    void aSecondEntryOfACompletedEventIsAcknowledgedAsADuplicateNotRunAgain(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 2).build();
        WorkerService s = service(options, ctx -> { }, b -> b);
        WorkflowEvent once = WorkflowEvent.builder("STEP").eventId("same").executionId("x").payload(Map.of("index", 0))
                .build();
        // A producer that retried a publish whose reply it lost: two entries, one event.
        s.publisher().publish(once);
        Await.until(Duration.ofSeconds(10), () -> completed() == 1, "the first entry completed");
        s.publisher().publish(once);
        s.publisher().publish(WorkflowEvent.builder("STEP").eventId("next").executionId("x").payload(Map.of("index", 1))
                .build());
        Await.until(Duration.ofSeconds(10), () -> completed() == 2, () -> "completed " + completions);
        Await.until(Duration.ofSeconds(10), () -> s.health().duplicates() == 1, () -> "health " + s.health().toJson());
        assertEquals(List.of(0, 1), completions.get("x"), "the duplicate did not run; the key went on");
        try (RedisClient client = redis.client()) {
            int p = PartitionRouting.partitionOf("x", 2);
            int partition = p;
            Await.until(Duration.ofSeconds(5), () -> PartitionKeys.unsettled(client, TestInternals.keys(options), 2)[partition] == 0,
                    () -> "unsettled " + java.util.Arrays.toString(PartitionKeys.unsettled(client, TestInternals.keys(options), 2)));
        }
        // Both entries read in one batch, before the first completed: the second is still a duplicate.
        WorkflowEvent twice = WorkflowEvent.builder("STEP").eventId("twice").executionId("y")
                .payload(Map.of("index", 0)).build();
        s.publisher().publishAll(List.of(twice, twice, WorkflowEvent.builder("STEP").eventId("after")
                .executionId("y").payload(Map.of("index", 1)).build()));
        Await.until(Duration.ofSeconds(10), () -> completed() == 4 && s.health().duplicates() == 2,
                () -> "completed " + completions + "; health " + s.health().toJson());
        assertEquals(List.of(0, 1), completions.get("y"));
    }

    @Test
    void aLostLeaseCancelsItsRunningHandlerAtOnceNotAtTheWatchdogsNextRenewal(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 1).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        // A lock TTL of a minute: the watchdog would look at the lease only every 20 s.
        WorkerService s = service(options, ctx -> {
            started.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!ctx.isCancelled() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            if (ctx.isCancelled()) {
                cancelled.countDown();
            }
        }, b -> b.lockTtl(Duration.ofSeconds(60)));
        s.publisher().publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1")
                .payload(Map.of("index", 0)).build());
        assertTrue(started.await(10, TimeUnit.SECONDS), "the handler did not start");
        try (RedisClient c = redis.client()) {
            c.set(options.partitionLease(0), "another-owner|999");
        }
        // The next ownership round (every 400 ms here) finds the lease taken.
        assertTrue(cancelled.await(5, TimeUnit.SECONDS), "the handler was not cancelled within 5 s of losing its lease");
    }

    @Test
    void aDifferentPartitionCountFailsAtStartNamingBothCounts(RedisServer redis) {
        RedisEventTransport.create(redis.options().partitions(4).build()).close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RedisEventTransport.create(redis.options().partitions(8).build()));
        assertTrue(e.getMessage().contains("configured with 8") && e.getMessage().contains("created with 4"),
                e.getMessage());
        IllegalStateException shared = assertThrows(IllegalStateException.class,
                () -> RedisEventTransport.create(redis.options().partitions(0).build()));
        assertTrue(shared.getMessage().contains("shared (unordered) mode")
                && shared.getMessage().contains("created with 4 partitions"), shared.getMessage());
    }

    @Test
    void routingFollowsTheDocumentedTestVectors() {
        // crc32 as zlib computes it, unsigned; the same vectors are in docs/ARCHITECTURE.md.
        assertEquals(398769369L % 16, PartitionRouting.partitionOf("exec-1", 16));
        assertEquals(9, PartitionRouting.partitionOf("exec-1", 16));
        assertEquals(3, PartitionRouting.partitionOf("exec-2", 16));
        assertEquals(14, PartitionRouting.partitionOf("order-42", 16));
        assertEquals(13, PartitionRouting.partitionOf("ünïcödé-1", 16));
        assertEquals(15, PartitionRouting.partitionOf("4f8a2c1e-0b6d-4c1e-9a57-2f1e9d3c8b70", 16));
        assertEquals(0, PartitionRouting.partitionOf("", 16));
    }

    /**
     * The void settlements ({@code complete(List)}, {@code acknowledge}) refused because the
     * partition's lease went to another owner said nothing, so their caller (the engine counts an
     * acknowledged duplicate) took them as done while the entries stayed pending and ran again.
     * Now they fail as {@code completeAndRelease} answers the same deliveries.
     */
    @Test
    void aVoidSettlementRefusedForALostLeaseSaysSoAndTheEntriesStayPending(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, 1).stream("void-settle")
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             RedisClient client = redis.client()) {
            EventTransport.Consumer consumer = t.openConsumer("c");
            Await.until(Duration.ofSeconds(10), () -> t.ownedPartitions().contains(0), "partition 0 owned");
            t.publishAll(List.of(
                    WorkflowEvent.builder("STEP").eventId("v-1").executionId("x1").build(),
                    WorkflowEvent.builder("STEP").eventId("v-2").executionId("x2").build()));
            List<Delivery> read = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (read.size() < 2 && System.nanoTime() < until) {
                read.addAll(consumer.read(2, Duration.ofMillis(200)));
            }
            assertEquals(2, read.size(), "deliveries read");
            // Another owner took the partition (as after a pause longer than the lease) and opened
            // it: until that open this owner's outcomes would still land, and the open read them
            // (docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or reorder", point 1).
            client.set(options.partitionFence(0), "1000");
            client.set(options.partitionLease(0), "thief|1000", SetParams.setParams().px(30_000));
            String zero = options.partitionStream(0);
            assertTrue(client.eval(TimeScriptsTest.script("partition_open.lua"),
                    List.of(options.partitionLease(0), zero + ":log", zero + ":settled", zero + ":held",
                            zero + ":recent", options.partitionDeadLetters(0), zero, options.partitionCompleted(0)),
                    List.of("thief|1000", options.group(), "100")) instanceof List<?>, "the thief's open");

            SettlementRefusedException completing = assertThrows(SettlementRefusedException.class,
                    () -> consumer.complete(List.of(read.get(0))));
            SettlementRefusedException acknowledging = assertThrows(SettlementRefusedException.class,
                    () -> consumer.acknowledge(read.get(1)));
            assertEquals(List.of(read.get(0)), completing.refused());
            assertEquals(List.of(read.get(1)), acknowledging.refused());

            assertTrue(completing.getMessage().contains(read.get(0).id()), completing.getMessage());
            assertTrue(acknowledging.getMessage().contains(read.get(1).id()), acknowledging.getMessage());
            // Judged from Redis's own record, not from the transport's.
            assertEquals(2, PartitionKeys.unsettled(client, TestInternals.keys(options), 1)[0],
                    "both entries still pending for the partition's next owner");
            consumer.close();
        }
    }
}
