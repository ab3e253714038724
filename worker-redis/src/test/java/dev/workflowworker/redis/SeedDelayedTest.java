package dev.workflowworker.redis;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.time.DelayedStore;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delayed events written in the seed format: a foreign producer's {@code XADD} to the single
 * stream with a {@code due_at} field, on a real Redis. The router stores it in its partition's
 * delayed store, and from there it is what {@code publishAt} stores: it runs at its due time in
 * its execution's order, counts as waiting, can be cancelled and rescheduled. Judged from the
 * ledger the handlers write and from the dead letters.
 */
@ExtendWith(RedisServerExtension.class)
class SeedDelayedTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Per execution id, the event ids in handler start order. */
    private final ConcurrentHashMap<String, List<String>> ledger = new ConcurrentHashMap<>();
    /** Per event id, when its handler started (ms) and the due-at header it saw (-1 when none). */
    private final Map<String, long[]> started = new ConcurrentHashMap<>();
    private final List<String> all = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private WorkerService service(RedisOptions options) {
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    WorkflowEvent e = ctx.event();
                    String due = e.headers().get(DelayedEvents.DUE_AT_HEADER);
                    started.put(e.eventId(), new long[]{System.currentTimeMillis(),
                            due == null ? -1 : Instant.parse(due).toEpochMilli()});
                    ledger.computeIfAbsent(e.executionId(), k -> new CopyOnWriteArrayList<>()).add(e.eventId());
                    all.add(e.eventId());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    private static RedisOptions partitioned(RedisServer redis) {
        return redis.options().partitions(4).partitionLeaseTtl(Duration.ofSeconds(2)).build();
    }

    /** A foreign producer's entry, as the seed writes it: every field, '' for the absent ones. */
    private static void seed(RedisClient c, RedisOptions options, String eventId, String execution, String dueAt) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("event_id", eventId);
        f.put("execution_id", execution);
        f.put("event_name", "Step");
        f.put("event_type", "STEP");
        f.put("tenant", "");
        f.put("timestamp", "2025-03-01T23:00:00.000Z");
        f.put("from_state", "");
        f.put("to_state", "");
        f.put("user_id", "");
        f.put("payload_json", "{\"id\":\"" + eventId + "\"}");
        f.put("headers_json", "{\"source\":\"seed\"}");
        if (dueAt != null) {
            f.put("due_at", dueAt);
        }
        c.xadd(options.stream(), StreamEntryID.NEW_ENTRY, f);
    }

    private List<String> ran(String execution) {
        return ledger.getOrDefault(execution, List.of());
    }

    @Test
    void aFutureDueAtRunsAtItsDueTimeInOrderWithItsExecutionsOtherSeedEvents(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        WorkerService s = service(options);
        long now = System.currentTimeMillis();
        long late = now + 700;
        Instant later = Instant.ofEpochMilli(now + 1_000);
        try (RedisClient c = redis.client()) {
            seed(c, options, "f0", "exec-f", null);
            seed(c, options, "f-late", "exec-f", Long.toString(late));
            seed(c, options, "f1", "exec-f", "");
            seed(c, options, "f-later", "exec-f", later.toString());
        }
        Await.until(Duration.ofSeconds(15), () -> ran("exec-f").size() == 4, () -> "all four ran: " + ledger);
        assertEquals(List.of("f0", "f1", "f-late", "f-later"), ran("exec-f"),
                "a delayed seed event joins its execution's order at its due time");
        assertEquals(late, started.get("f-late")[1], "the due-at header holds due_at");
        assertEquals(later.toEpochMilli(), started.get("f-later")[1], "an ISO-8601 due_at too");
        for (String id : List.of("f-late", "f-later")) {
            long[] at = started.get(id);
            assertTrue(at[0] >= at[1], id + " started " + (at[1] - at[0]) + " ms before it was due");
        }
        assertEquals(-1, started.get("f0")[1], "a seed event without due_at has no due-at header");
        assertEquals(0, s.delayed().orElseThrow().waiting());
    }

    @Test
    void aDueAtInThePastRunsAtOnceInItsPlace(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        WorkerService s = service(options);
        Instant minuteAgo = Instant.now().minusSeconds(60);
        try (RedisClient c = redis.client()) {
            seed(c, options, "p0", "exec-p", null);
            seed(c, options, "p1", "exec-p", "0");
            seed(c, options, "p2", "exec-p", minuteAgo.toString());
            seed(c, options, "p3", "exec-p", null);
        }
        Await.until(Duration.ofSeconds(15), () -> ran("exec-p").size() == 4, () -> "all four ran: " + ledger);
        assertEquals(List.of("p0", "p1", "p2", "p3"), ran("exec-p"), "routed at once, in source order");
        assertEquals(0, started.get("p1")[1], "the due-at header as publishAt writes it");
        assertEquals(minuteAgo.toEpochMilli(), started.get("p2")[1]);
        assertEquals(0, s.delayed().orElseThrow().waiting());
    }

    /**
     * A seed entry of the eleven wire fields and {@code due_at} reaches its partition in the
     * compact form, as every publish does (docs/ARCHITECTURE.md, "Partition entries: the compact
     * form"): appended at once when its due_at has passed, and when it falls due from the delayed
     * store. Read from the partition stream's raw entries.
     */
    @Test
    void aSeedEntryWithADueAtReachesItsPartitionCompactWhetherDueAtOnceOrLater(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        service(options);
        long late = System.currentTimeMillis() + 500;
        try (RedisClient c = redis.client()) {
            seed(c, options, "k-past", "exec-k", "0");
            seed(c, options, "k-late", "exec-k", Long.toString(late));
            Await.until(Duration.ofSeconds(15), () -> ran("exec-k").size() == 2, () -> "both ran: " + ledger);
            String partition = options.partitionStream(PartitionRouting.partitionOf("exec-k", 4));
            List<Map<String, String>> entries = c.xrange(partition, (StreamEntryID) null, null).stream()
                    .map(StreamEntry::getFields).toList();
            assertEquals(List.of(Map.of("e:1", compact("k-past", 0)), Map.of("e:1", compact("k-late", late))), entries);
        }
    }

    /** The compact value of {@link #seed}'s entry for {@code exec-k} once due, its due-at header first. */
    private static String compact(String eventId, long due) {
        String headers = "{\"due-at\":\"" + DelayedStore.DUE_FORMAT.format(Instant.ofEpochMilli(due))
                + "\",\"source\":\"seed\"}";
        StringBuilder b = new StringBuilder();
        for (String v : List.of(eventId, "exec-k", "Step", "STEP", "", "2025-03-01T23:00:00.000Z", "", "", "",
                "{\"id\":\"" + eventId + "\"}", headers)) {
            b.append(v.getBytes(StandardCharsets.UTF_8).length).append(':').append(v);
        }
        return b.toString();
    }

    @Test
    void anUnreadableDueAtIsDeadLetteredWithItsReasonAndLaterEventsRun(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        service(options);
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("x-garbage", "soon");
        bad.put("x-negative", "-1");
        bad.put("x-after-9999", "253402300800000");
        bad.put("x-overflow", "99999999999999999999999");
        bad.put("x-iso-after-9999", "+10000-01-01T00:00:00Z");
        bad.put("x-before-1970", "1969-12-31T23:59:59Z");
        try (RedisClient c = redis.client()) {
            seed(c, options, "x0", "exec-x", null);
            bad.forEach((id, due) -> seed(c, options, id, "exec-x", due));
            seed(c, options, "x1", "exec-x", null);
            String dlq = options.partitionDeadLetters(PartitionRouting.partitionOf("exec-x", 4));
            Await.until(Duration.ofSeconds(15), () -> ran("exec-x").size() == 2 && c.exists(dlq)
                    && c.xlen(dlq) == bad.size(), () -> "ran " + ledger);
            assertEquals(List.of("x0", "x1"), ran("exec-x"));
            Map<String, String> reasons = new LinkedHashMap<>();
            for (StreamEntry e : c.xrange(dlq, (StreamEntryID) null, null)) {
                String message = e.getFields().get("original_message");
                String id = bad.keySet().stream().filter(k -> message.contains("\"" + k + "\"")).findFirst()
                        .orElseThrow();
                reasons.put(id, e.getFields().get("error_message"));
            }
            Map<String, String> expected = Map.of("x-garbage", "expected epoch milliseconds or an ISO-8601 instant",
                    "x-negative", "'-1' is negative", "x-after-9999", "is after year 9999",
                    "x-overflow", "is after year 9999", "x-iso-after-9999", "is after year 9999",
                    "x-before-1970", "is before 1970");
            expected.forEach((id, reason) -> {
                String actual = reasons.get(id);
                assertTrue(actual != null && actual.contains("invalid field 'due_at'") && actual.contains(reason),
                        id + ": " + actual);
            });
        }
    }

    @Test
    void aWaitingSeedEventCountsAndIsCancelledAndRescheduledThroughTheApi(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        WorkerService s = service(options);
        DelayedEvents delayed = s.delayed().orElseThrow();
        String hour = Long.toString(System.currentTimeMillis() + 3_600_000);
        try (RedisClient c = redis.client()) {
            seed(c, options, "c1", "exec-c", hour);
            seed(c, options, "c2", "exec-c", hour);
            seed(c, options, "c3", "exec-c", hour);
        }
        Await.until(Duration.ofSeconds(15), () -> delayed.waiting() == 3, () -> "waiting " + delayed.waiting());
        assertTrue(delayed.cancel("c1"));
        assertFalse(delayed.cancel("c1"), "cancelled already");
        Instant soon = Instant.now().plusMillis(300);
        assertTrue(delayed.reschedule("c2", soon));
        Await.until(Duration.ofSeconds(15), () -> all.contains("c2"), () -> "c2 ran: " + ledger);
        assertEquals(soon.toEpochMilli(), started.get("c2")[1], "the header follows the new due time");
        assertFalse(delayed.reschedule("c2", soon), "it ran: nothing to reschedule");
        assertEquals(1, delayed.waiting(), "c3 still waits");
        assertTrue(delayed.cancel("c3"));
        assertEquals(0, delayed.waiting());
        assertEquals(List.of("c2"), all);
    }

    /** As publishAt: a second entry of an event id still waiting changes nothing, whatever its due_at. */
    @Test
    void aSecondEntryOfAWaitingEventIdChangesNothing(RedisServer redis) {
        RedisOptions options = partitioned(redis);
        WorkerService s = service(options);
        long due = System.currentTimeMillis() + 2_000;
        try (RedisClient c = redis.client()) {
            seed(c, options, "d1", "exec-d", Long.toString(due));
            seed(c, options, "d1", "exec-d", Long.toString(due + 3_600_000));
            seed(c, options, "d1", "exec-d", "0");
            seed(c, options, "d-end", "exec-d", Long.toString(due + 300));
        }
        Await.until(Duration.ofSeconds(15), () -> all.contains("d-end"), () -> "ran " + ledger);
        assertEquals(List.of("d1", "d-end"), ran("exec-d"));
        assertEquals(due, started.get("d1")[1], "the first due time holds");
        assertEquals(0, s.delayed().orElseThrow().waiting());
    }

    /**
     * A router that crashed after routing and before acking reads the same source ids again: the
     * routed mark skips them, and with the mark gone too the waiting id is not stored twice. An
     * insert that becomes the partition's earliest wakes its owner, once per call.
     */
    @Test
    void routingTheSameSourceIdsAgainStoresTheEventOnceAndAnEarliestInsertWakes(RedisServer redis)
            throws Exception {
        List<String> keys = List.of("{s#0}", "{s#0}:routed", "{s#0}:delayed", "{s#0}:delayed:e");
        String route = TimeScriptsTest.script("route.lua");
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onMessage(String channel, String message) {
                heard.add(message);
            }

            @Override
            public void onSubscribe(String channel, int count) {
                subscribed.countDown();
            }
        };
        try (RedisClient sub = redis.client(); RedisClient c = redis.client()) {
            Thread t = new Thread(() -> sub.subscribe(listener, "s:time-wake"));
            t.start();
            assertTrue(subscribed.await(10, TimeUnit.SECONDS));
            long far = System.currentTimeMillis() + 3_600_000;
            List<String> batch = new ArrayList<>(List.of("s:time-wake", "0"));
            batch.addAll(List.of("1-0", "2", "event_id", "before"));
            batch.addAll(delayedRecord("2-0", "later", far));
            batch.addAll(List.of("3-0", "2", "event_id", "after"));
            assertEquals(3L, c.eval(route, keys, batch));
            assertEquals("0", heard.poll(10, TimeUnit.SECONDS), "the first insert is the earliest");

            assertEquals(0L, c.eval(route, keys, batch), "read again: all at or below the mark");
            c.del("{s#0}:routed");
            assertEquals(3L, c.eval(route, keys, batch), "the mark lost too");
            assertEquals(1, c.zcard("{s#0}:delayed"), "stored once");
            assertEquals((double) far, c.zscore("{s#0}:delayed", "later"));
            assertTrue(new String(c.hget("{s#0}:delayed:e".getBytes(StandardCharsets.UTF_8),
                    "later".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8).contains("\"due-at\":\""));

            List<String> more = new ArrayList<>(List.of("s:time-wake", "0"));
            more.addAll(delayedRecord("4-0", "not-earliest", far + 1));
            more.addAll(delayedRecord("5-0", "earliest", far - 1));
            more.addAll(delayedRecord("6-0", "also-earliest", far - 2));
            more.addAll(delayedRecord("7-0", "past", 1));
            assertEquals(4L, c.eval(route, keys, more));
            assertEquals("0", heard.poll(10, TimeUnit.SECONDS));
            assertEquals(4, c.zcard("{s#0}:delayed"), "the past one went into the stream");
            List<String> stream = c.xrange("{s#0}", (StreamEntryID) null, null).stream()
                    .map(e -> e.getFields().get("event_id")).toList();
            assertEquals(List.of("before", "after", "before", "after", "past"), stream,
                    "the plain entries routed twice (the mark deleted by hand), the past one at once");
            listener.unsubscribe();
            t.join(10_000);
            assertFalse(t.isAlive());
            assertNull(heard.poll(), "one wake per call that inserted an earliest");
        }
    }

    /** The router's record of a delayed entry: the stored entry packed as the scripts unpack it. */
    private static List<String> delayedRecord(String sourceId, String eventId, long due) {
        String headers = "{\"due-at\":\"" + Instant.ofEpochMilli(due) + "\"}";
        StringBuilder stored = new StringBuilder();
        for (String s : List.of("event_id", eventId, "event_type", "STEP", "headers_json", headers)) {
            stored.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s);
        }
        return List.of(sourceId, "D", eventId, Long.toString(due), stored.toString());
    }

    /**
     * On a shared stream ({@code partitions(0)}) nothing reads a due time: a readable due_at runs
     * at once, as docs/time.md says; an unreadable one is dead-lettered as on a partitioned stream.
     */
    @Test
    void onASharedStreamADueAtIsNotWaitedFor(RedisServer redis) {
        RedisOptions options = redis.options().partitions(0).build();
        service(options);
        try (RedisClient c = redis.client()) {
            seed(c, options, "s1", "exec-s", Long.toString(System.currentTimeMillis() + 3_600_000));
            seed(c, options, "s-bad", "exec-s", "tomorrow");
            seed(c, options, "s2", "exec-s", null);
            String dlq = options.deadLetterStream();
            Await.until(Duration.ofSeconds(15), () -> ran("exec-s").size() == 2 && c.exists(dlq) && c.xlen(dlq) == 1,
                    () -> "ran " + ledger);
            assertEquals(List.of("s1", "s2"), ran("exec-s").stream().sorted().toList(), "both ran, s1 at once");
            assertEquals(-1, started.get("s1")[1], "no due-at header");
            assertTrue(c.xrange(dlq, (StreamEntryID) null, null).get(0).getFields().get("error_message")
                    .contains("invalid field 'due_at'"));
        }
    }
}
