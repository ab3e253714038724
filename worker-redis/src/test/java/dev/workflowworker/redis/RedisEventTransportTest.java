package dev.workflowworker.redis;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.shared.RedisConsumer;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.resps.StreamEntry;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class RedisEventTransportTest {

    /**
     * Blocking polls need a thread each. Since Java 25 CompletableFuture's default executor is the
     * common pool even when its parallelism is 1 (2 CPUs), which would run the polls one by one.
     */
    private static final Executor THREAD_PER_TASK = r -> {
        Thread t = new Thread(r, "blocking-poll");
        t.setDaemon(true);
        t.start();
    };

    private static final Duration WAIT = Duration.ofSeconds(5);
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeResources() throws Exception {
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    private RedisEventTransport transport(RedisServer redis) {
        return transport(redis, b -> b);
    }

    private RedisEventTransport transport(RedisServer redis, UnaryOperator<RedisOptions.Builder> custom) {
        RedisEventTransport t = RedisEventTransport.create(custom.apply(redis.options().partitions(0)).build());
        resources.add(t);
        return t;
    }

    private RedisClient client(RedisServer redis) {
        RedisClient c = redis.client();
        resources.add(c);
        return c;
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("TICKET_CREATED").eventId(id).executionId("exec-" + id).tenant("acme")
                .payload(Map.of("ticket_id", 42, "title", "Printer on fire")).build();
    }

    private static List<Delivery> pollUntil(EventTransport.Consumer c, int expected) throws InterruptedException {
        List<Delivery> all = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (all.size() < expected && System.nanoTime() < deadline) {
            all.addAll(c.read(expected - all.size(), Duration.ofMillis(200)));
        }
        return all;
    }

    private static String clientList(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            return new String((byte[]) c.sendCommand(Protocol.Command.CLIENT, "LIST"),
                    java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static long pendingCount(RedisClient c) {
        return c.xpending("workflow:events:global", "workflow-processors").getTotal();
    }

    @Test
    void publishedEventIsPolledWithAllItsFields(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        WorkflowEvent sent = event("e-1");
        String id = t.publish(sent);
        List<Delivery> got = t.openConsumer("c1").read(10, Duration.ofSeconds(1));
        assertEquals(1, got.size());
        Delivery d = got.get(0);
        assertEquals(id, d.id());
        assertEquals(1, d.attempt());
        assertEquals(sent, d.event());
        assertEquals("e-1", d.fields().get("event_id"));
    }

    @Test
    void publishAllWritesEveryEventInOrderOrNoneWhenOneIsTooLarge(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis, b -> b.maxPayloadBytes(100));
        List<WorkflowEvent> batch = List.of(event("b-1"), event("b-2"), event("b-3"));
        List<String> ids = t.publishAll(batch);
        assertEquals(3, ids.size());
        List<Delivery> got = pollUntil(t.openConsumer("c1"), 3);
        assertEquals(ids, got.stream().map(Delivery::id).toList());
        assertEquals(batch, got.stream().map(Delivery::event).toList());

        WorkflowEvent tooBig = WorkflowEvent.builder("T").payload(Map.of("x", "y".repeat(200))).build();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> t.publishAll(List.of(event("b-4"), tooBig)));
        assertEquals(3, client(redis).xlen("workflow:events:global"));
    }

    @Test
    void groupCreatedAtStartReadsEventsPublishedBeforeAnyWorker(RedisServer redis) throws Exception {
        try (RedisClient c = redis.client()) {
            c.xadd("workflow:events:global", StreamEntryID.NEW_ENTRY,
                    Map.of("event_id", "early", "event_type", "T", "payload_json", "{}"));
        }
        RedisEventTransport t = transport(redis);
        List<Delivery> got = pollUntil(t.openConsumer("c1"), 1);
        assertEquals("early", got.get(0).eventId());
    }

    @Test
    void groupStartingAtLatestSkipsOlderEntries(RedisServer redis) throws Exception {
        try (RedisClient c = redis.client()) {
            c.xadd("workflow:events:global", StreamEntryID.NEW_ENTRY,
                    Map.of("event_id", "old", "event_type", "T", "payload_json", "{}"));
        }
        RedisEventTransport t = transport(redis, b -> b.groupStartId(RedisOptions.START_FROM_LATEST));
        t.publish(event("new"));
        List<Delivery> got = pollUntil(t.openConsumer("c1"), 1);
        assertEquals(List.of("new"), got.stream().map(Delivery::eventId).toList());
    }

    @Test
    void blockedPollReturnsAsSoonAsAnEventArrives(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        EventTransport.Consumer consumer = t.openConsumer("c1");
        consumer.read(1, Duration.ofMillis(1)); // group and connection are ready before timing
        CompletableFuture<List<Delivery>> polled = CompletableFuture.supplyAsync(() -> {
            try {
                return consumer.read(5, Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, THREAD_PER_TASK);
        Await.until(WAIT, () -> {
            return clientList(redis).contains("cmd=xreadgroup");
        }, "the poll to block");
        long start = System.nanoTime();
        t.publish(event("fast"));
        List<Delivery> got = polled.get(5, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals("fast", got.get(0).eventId());
        assertTrue(tookMs < 2_000, "a blocked poll took " + tookMs + " ms to see a new event");
    }

    @Test
    void blockedPollsDoNotHoldUpPublishingOrOutcomes(RedisServer redis) throws Exception {
        // A pool of one: if blocking reads borrowed from it, publish would wait for a read to time out.
        RedisEventTransport t = transport(redis, b -> b.poolSize(1));
        List<CompletableFuture<List<Delivery>>> reads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EventTransport.Consumer c = t.openConsumer("blocked-" + i);
            reads.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(1, Duration.ofSeconds(4));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, THREAD_PER_TASK));
        }
        Await.until(WAIT, () -> {
            return clientList(redis).split("cmd=xreadgroup", -1).length - 1 == 3;
        }, "three blocked reads");
        long start = System.nanoTime();
        t.publish(event("p1"));
        assertFalse(t.openConsumer("other").completedAmong(List.of("p1")).contains("p1"));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMs < 1_000, "publish and isProcessed took " + tookMs + " ms while reads were blocked");
        CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void completeAcksAndWritesAnExpiringProcessedMarker(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis, b -> b.processedTtl(Duration.ofMinutes(5)));
        RedisClient c = client(redis);
        t.publish(event("done-1"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        Delivery d = pollUntil(consumer, 1).get(0);
        assertFalse(consumer.completedAmong(List.of("done-1")).contains("done-1"));
        assertEquals(1, pendingCount(c));

        consumer.complete(List.of(d));

        assertTrue(consumer.completedAmong(List.of("done-1")).contains("done-1"));
        assertEquals(0, pendingCount(c));
        long ttl = c.pttl("workflow:processed:done-1");
        assertTrue(ttl > 0 && ttl <= Duration.ofMinutes(5).toMillis(), "marker ttl " + ttl);
    }

    @Test
    void ackRemovesTheDeliveryFromPendingWithoutAMarker(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("dup-1"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        consumer.acknowledge(pollUntil(consumer, 1).get(0));
        assertEquals(0, pendingCount(c));
        assertFalse(consumer.completedAmong(List.of("dup-1")).contains("dup-1"));
    }

    @Test
    void rescheduleAcksAndRedeliversWhenDueWithTheNextAttempt(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("retry-1"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        Delivery first = pollUntil(consumer, 1).get(0);

        consumer.retryAt(first, Instant.now().plusMillis(300), 2);

        assertEquals(0, pendingCount(c), "ack and retry entry happen together");
        assertEquals(1, c.zcard("workflow:events:global:retry"));
        Delivery again = pollUntil(consumer, 1).get(0);
        assertEquals("retry-1", again.eventId());
        assertEquals(2, again.attempt());
        assertEquals(first.event(), again.event());
        assertEquals(0, c.zcard("workflow:events:global:retry"));
    }

    @Test
    void rescheduleOfAnEntryNoLongerPendingSchedulesNothing(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("settled"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        Delivery d = pollUntil(consumer, 1).get(0);
        consumer.complete(List.of(d));

        consumer.retryAt(d, Instant.now(), 2);

        assertEquals(0, c.zcard("workflow:events:global:retry"));
    }

    @Test
    void deadLetterRecordsEveryFieldAndAcks(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        String id = t.publish(event("bad-1"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        Delivery d = pollUntil(consumer, 1).get(0);
        Instant movedAt = Instant.parse("2026-01-02T03:04:05.123456Z");

        consumer.deadLetter(d, new DeadLetter(ErrorCategory.PERMANENT, "unknown event type 'X'",
                "java.lang.IllegalArgumentException\n\tat here", 3, "worker-7", movedAt));

        assertEquals(0, pendingCount(c));
        List<StreamEntry> dlq = c.xrange("workflow:events:global:dlq", (StreamEntryID) null, null);
        assertEquals(1, dlq.size());
        Map<String, String> f = dlq.get(0).getFields();
        assertEquals("unknown event type 'X'", f.get("error_message"));
        assertEquals("java.lang.IllegalArgumentException\n\tat here", f.get("error_stack"));
        assertEquals("workflow:events:global", f.get("source_stream"));
        assertEquals(id, f.get("original_id"));
        assertEquals("2026-01-02T03:04:05.123Z", f.get("moved_at"), "milliseconds, always three digits");
        assertEquals("permanent", f.get("error_category"));
        assertEquals("3", f.get("attempts"));
        assertEquals("worker-7", f.get("worker_id"));
        assertTrue(f.get("original_message").contains("\"event_id\":\"bad-1\""), f.get("original_message"));
        assertTrue(f.get("original_message").contains("\"payload_json\""), f.get("original_message"));
    }

    @Test
    void deadLetterStreamIsCappedApproximately(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis, b -> b.deadLetterMaxLength(100));
        RedisClient c = client(redis);
        EventTransport.Consumer consumer = t.openConsumer("c1");
        for (int i = 0; i < 400; i++) {
            t.publish(event("cap-" + i));
        }
        List<Delivery> all = pollUntil(consumer, 400);
        for (Delivery d : all) {
            consumer.deadLetter(d, new DeadLetter(ErrorCategory.PERMANENT, "x", "", 1, "w", Instant.now()));
        }
        long length = c.xlen("workflow:events:global:dlq");
        // MAXLEN ~ trims whole radix-tree nodes (100 entries each by default), so a node's worth may remain.
        assertTrue(length >= 100 && length <= 200, "dead-letter stream length " + length);
    }

    @Test
    void claimStalledTakesOverEntriesOfADeadConsumer(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("orphan"));
        EventTransport.Consumer dead = t.openConsumer("dead");
        Delivery original = pollUntil(dead, 1).get(0);
        dead.close(); // crashed: never acks

        EventTransport.Consumer survivor = t.openConsumer("survivor");
        assertTrue(survivor.reclaimStalled(Duration.ofSeconds(30), 10).isEmpty(), "not idle long enough yet");
        Await.until(WAIT, () -> c.xpending("workflow:events:global", "workflow-processors",
                        new XPendingParams().count(1)).get(0).getIdleTime() > 200,
                "the entry to be idle for 200 ms");
        List<Delivery> claimed = survivor.reclaimStalled(Duration.ofMillis(200), 10);

        assertEquals(1, claimed.size());
        assertEquals(original.id(), claimed.get(0).id());
        assertEquals(original.event(), claimed.get(0).event());
        survivor.complete(List.of(claimed.get(0)));
        assertEquals(0, pendingCount(c));
    }

    @Test
    void keepAliveStopsInFlightEntriesFromBeingClaimed(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("busy"));
        EventTransport.Consumer worker = t.openConsumer("worker");
        Delivery inFlight = pollUntil(worker, 1).get(0);
        EventTransport.Consumer other = t.openConsumer("other");
        Await.until(WAIT, () -> c.xpending("workflow:events:global", "workflow-processors",
                        new XPendingParams().count(1)).get(0).getIdleTime() > 300,
                "the entry to be idle for 300 ms");

        worker.keepAlive(List.of(inFlight));

        assertTrue(other.reclaimStalled(Duration.ofMillis(300), 10).isEmpty());
        assertEquals("worker", c.xpending("workflow:events:global", "workflow-processors",
                new XPendingParams().count(1)).get(0).getConsumerName());
    }

    @Test
    void keepAliveDoesNotStealBackAnEntryAnotherConsumerClaimed(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("slow"));
        EventTransport.Consumer slow = t.openConsumer("slow");
        Delivery d = pollUntil(slow, 1).get(0);
        EventTransport.Consumer rescuer = t.openConsumer("rescuer");
        Await.until(WAIT, () -> !rescuer.reclaimStalled(Duration.ofMillis(50), 1).isEmpty(),
                "the entry to be claimable");

        slow.keepAlive(List.of(d));

        assertEquals("rescuer", c.xpending("workflow:events:global", "workflow-processors",
                new XPendingParams().count(1)).get(0).getConsumerName());
    }

    @Test
    void releaseHandsEntriesBackForImmediateRedeliveryWithoutCountingAnAttempt(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("r-1"));
        t.publish(event("r-2"));
        EventTransport.Consumer stopping = t.openConsumer("stopping");
        List<Delivery> held = pollUntil(stopping, 2);

        stopping.release(held);
        stopping.close();

        assertEquals(0, pendingCount(c));
        List<Delivery> again = pollUntil(t.openConsumer("next"), 2);
        assertEquals(List.of("r-1", "r-2"), again.stream().map(Delivery::eventId).toList());
        assertTrue(again.stream().allMatch(d -> d.attempt() == 1));
    }

    @Test
    void trimmingNeverRemovesPendingOrUndeliveredEntries(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        EventTransport.Consumer consumer = t.openConsumer("c1");
        for (int i = 0; i < 10; i++) {
            t.publish(event("t-" + i));
        }
        List<Delivery> delivered = pollUntil(consumer, 6);
        // Acked: 0,1,3,4,5. Pending: 2. Undelivered: 6..9.
        for (int i : new int[] {0, 1, 3, 4, 5}) {
            consumer.complete(List.of(delivered.get(i)));
        }

        long removed = t.trimStream();

        assertEquals(2, removed, "only the acked entries before the oldest pending one");
        List<String> left = c.xrange("workflow:events:global", (StreamEntryID) null, null).stream()
                .map(e -> e.getFields().get("event_id")).toList();
        assertEquals(List.of("t-2", "t-3", "t-4", "t-5", "t-6", "t-7", "t-8", "t-9"), left);
        consumer.complete(List.of(delivered.get(2)));
        assertEquals(4, t.trimStream(), "everything up to the last delivered entry once nothing is pending");
        List<Delivery> rest = pollUntil(consumer, 4);
        assertEquals(List.of("t-6", "t-7", "t-8", "t-9"), rest.stream().map(Delivery::eventId).toList());
    }

    @Test
    void trimmingRespectsEveryGroupOnTheStream(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        c.xgroupCreate("workflow:events:global", "other-group", new StreamEntryID(0, 0), true);
        t.publish(event("g-1"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        consumer.complete(List.of(pollUntil(consumer, 1).get(0)));

        assertEquals(0, t.trimStream(), "other-group has not read g-1 yet");
        assertEquals(1, c.xlen("workflow:events:global"));
    }

    @Test
    void idleConsumersOwningNothingAreRemovedButOwnersAreKept(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis, b -> b.consumerRetention(Duration.ofMillis(100)));
        RedisClient c = client(redis);
        t.publish(event("owned"));
        t.publish(event("finished"));
        RedisConsumer owner = (RedisConsumer) t.openConsumer("owner");
        pollUntil(owner, 1);
        // Redis 7.0 creates a consumer only when it reads something.
        RedisConsumer idle = (RedisConsumer) t.openConsumer("idle");
        idle.complete(List.of(pollUntil(idle, 1).get(0)));
        RedisConsumer self = (RedisConsumer) t.openConsumer("self");
        c.xgroupCreateConsumer("workflow:events:global", "workflow-processors", "self");
        Await.until(WAIT, () -> c.xinfoConsumers2("workflow:events:global",
                "workflow-processors").stream().allMatch(ci -> ci.getIdle() > 150),
                "consumers to be idle for 150 ms");

        assertEquals(1, TestInternals.shared(t).removeIdleConsumers("self"));

        List<String> names = c.xinfoConsumers2("workflow:events:global", "workflow-processors").stream()
                .map(ci -> ci.getName()).sorted().toList();
        assertEquals(List.of("owner", "self"), names);
    }

    @Test
    void recreatesTheGroupWhenTheStreamVanishes(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        EventTransport.Consumer consumer = t.openConsumer("c1");
        t.publish(event("before"));
        consumer.complete(List.of(pollUntil(consumer, 1).get(0)));
        c.del("workflow:events:global");

        t.publish(event("after"));
        List<Delivery> got = pollUntil(consumer, 1);

        assertEquals("after", got.get(0).eventId());
        consumer.complete(List.of(got.get(0)));
        assertTrue(consumer.completedAmong(List.of("after")).contains("after"));
    }

    @Test
    void scriptsAreReloadedAfterRedisForgetsThem(RedisServer redis) throws Exception {
        RedisEventTransport t = transport(redis);
        RedisClient c = client(redis);
        t.publish(event("noscript"));
        EventTransport.Consumer consumer = t.openConsumer("c1");
        Delivery d = pollUntil(consumer, 1).get(0);
        c.scriptFlush();

        consumer.complete(List.of(d));

        assertTrue(consumer.completedAmong(List.of("noscript")).contains("noscript"));
        assertNotNull(c.get("workflow:processed:noscript"));
    }

    @Test
    void closedTransportRefusesToPublish(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        t.close();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> t.publish(event("late")));
        assertTrue(e.getMessage().contains("closed"));
    }
}
