package dev.workflowworker.redis;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delayed events on a partitioned stream, on a real Redis: an event runs at its due time behind
 * the events its execution had by then, cancel and reschedule answer whether it still waited, a
 * repeated publish stores it once, and an event waiting when its owner closes is moved by the
 * next owner. Everything is judged from the ledger the handlers write.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedDelayedTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Per execution id, the event ids in handler start order. */
    private final ConcurrentHashMap<String, List<String>> ledger = new ConcurrentHashMap<>();
    /** Per event id, when its handler started (ms) and the due-at header it saw. */
    private final Map<String, long[]> started = new ConcurrentHashMap<>();
    private final List<String> all = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private RedisEventTransport transport(RedisServer redis) {
        return RedisEventTransport.create(redis.options().partitions(4)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build());
    }

    private WorkerService service(RedisEventTransport transport) {
        WorkerService s = WorkerService.builder().transport(transport)
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

    private static WorkflowEvent step(String id, String execution) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId(execution).payload(Map.of("n", 1)).build();
    }

    @Test
    void aDelayedEventRunsAtItsDueTimeBehindWhatItsExecutionHadThen(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        WorkerService s = service(t);
        DelayedEvents delayed = s.delayed().orElseThrow();
        t.publish(step("a0", "exec-a"));
        delayed.publishAfter(step("a-late", "exec-a"), Duration.ofMillis(400));
        t.publish(step("a1", "exec-a"));
        delayed.publishAt(step("a-later", "exec-a"), Instant.now().plusMillis(700));
        assertEquals(2, delayed.waiting());

        Await.until(Duration.ofSeconds(10), () -> ledger.getOrDefault("exec-a", List.of()).size() == 4,
                () -> "all four ran: " + ledger);
        assertEquals(List.of("a0", "a1", "a-late", "a-later"), ledger.get("exec-a"),
                "a delayed event joins its execution's order at its due time");
        for (String id : List.of("a-late", "a-later")) {
            long[] at = started.get(id);
            assertTrue(at[1] > 0, id + " carries its due time");
            assertTrue(at[0] >= at[1], id + " started " + (at[1] - at[0]) + " ms before it was due");
        }
        assertEquals(0, delayed.waiting());
    }

    @Test
    void cancelAndRescheduleAnswerWhetherTheEventStillWaited(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        WorkerService s = service(t);
        DelayedEvents delayed = s.delayed().orElseThrow();
        Instant now = Instant.now();
        delayed.publishAt(step("c1", "exec-c"), now.plusMillis(300));
        delayed.publishAt(step("c2", "exec-c"), now.plus(Duration.ofHours(1)));
        delayed.publishAt(step("c3", "exec-c"), now.plusMillis(900));

        assertTrue(delayed.cancel("c1"));
        assertFalse(delayed.cancel("c1"), "cancelled already");
        assertFalse(delayed.cancel("never-published"));
        assertTrue(delayed.reschedule("c2", now.plusMillis(500)));
        assertFalse(delayed.reschedule("never-published", now));

        Await.until(Duration.ofSeconds(10), () -> all.contains("c3"), () -> "c3 ran: " + ledger);
        assertEquals(List.of("c2", "c3"), ledger.get("exec-c"), "c1 never ran; c2 ran at its new time");
        long[] c2 = started.get("c2");
        assertEquals(now.plusMillis(500).toEpochMilli(), c2[1], "the header follows the new due time");
        assertFalse(delayed.cancel("c2"), "it ran: nothing to cancel");
        assertFalse(delayed.reschedule("c3", now), "it ran: nothing to reschedule");
    }

    @Test
    void aRepeatedPublishStoresTheEventOnce(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        WorkerService s = service(t);
        DelayedEvents delayed = s.delayed().orElseThrow();
        Instant due = Instant.now().plusMillis(300);
        delayed.publishAt(step("once", "exec-o"), due);
        delayed.publishAt(step("once", "exec-o"), due.plusSeconds(60));
        assertEquals(1, delayed.waiting());
        t.publish(step("marker", "exec-o"));
        delayed.publishAt(step("after", "exec-o"), due.plusMillis(300));
        Await.until(Duration.ofSeconds(10), () -> all.contains("after"), () -> "ran: " + all);
        assertEquals(List.of("marker", "once", "after"), ledger.get("exec-o"));
    }

    @Test
    void anEventWaitingWhenItsOwnerClosesIsMovedByTheNext(RedisServer redis) {
        RedisEventTransport first = transport(redis);
        WorkerService a = service(first);
        a.delayed().orElseThrow().publishAfter(step("handed", "exec-h"), Duration.ofMillis(800));
        a.close();
        assertTrue(all.isEmpty(), "nothing ran before its time");
        WorkerService b = service(transport(redis));
        Await.until(Duration.ofSeconds(10), () -> all.contains("handed"), () -> "ran: " + all);
        assertEquals(List.of("handed"), all);
        assertEquals(0, b.delayed().orElseThrow().waiting());
    }

    /**
     * Stored in its compact form while it waits, an event comes out as it went in: every field,
     * characters the packing must not mind, a header whose value holds the due-at text, and a
     * due-at header it carried already replaced by its due time.
     */
    @Test
    void anEventComesOutOfItsWaitAsItWentIn(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        List<WorkflowEvent> seen = new CopyOnWriteArrayList<>();
        WorkerService s = WorkerService.builder().transport(t)
                .runtime(ActionRuntime.builder().on("FULL", ctx -> seen.add(ctx.event())).build())
                .workerCount(1).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        WorkflowEvent full = WorkflowEvent.builder("FULL").eventId("full:1 — ü").executionId("exec:ü")
                .eventName("a name").tenant("tenant-7").timestamp(Instant.parse("2024-02-29T12:34:56.789012Z"))
                .fromState("open").toState("closed").userId("u:1")
                .payload(Map.of("text", "\"due-at\":\"x\" — 12:x " + "long ".repeat(100), "n", "1",
                        "big", "b".repeat(70_000))) // every MessagePack string width: fixstr to str32
                .headers(Map.of("note", "{\"due-at\":\"2000-01-01T00:00:00.000Z\"}", "x-due-at", "kept",
                        DelayedEvents.DUE_AT_HEADER, "2000-01-01T00:00:00.000Z")) // from an earlier wait: replaced
                .build();
        Instant due = Instant.now().plusMillis(300);
        s.delayed().orElseThrow().publishAt(full, due);
        Await.until(Duration.ofSeconds(10), () -> seen.size() == 1, () -> "ran: " + seen);
        WorkflowEvent got = seen.get(0);
        Map<String, String> headers = new java.util.HashMap<>(full.headers());
        headers.put(DelayedEvents.DUE_AT_HEADER, due.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
        assertEquals(full.toBuilder().headers(headers).build(), got);
    }

    /** A due time past year 9999 is refused naming the argument; one before 1970 is past, so due now. */
    @Test
    void anAbsurdDueTimeIsRefusedNamingTheArgument(RedisServer redis) {
        RedisEventTransport t = transport(redis);
        WorkerService s = service(t);
        DelayedEvents delayed = s.delayed().orElseThrow();
        Instant year10000 = Instant.parse("+10000-01-01T00:00:00Z");
        IllegalArgumentException at = assertThrows(IllegalArgumentException.class,
                () -> delayed.publishAt(step("far", "x"), year10000));
        assertTrue(at.getMessage().startsWith("dueAt "), at.getMessage());
        for (Duration d : List.of(Duration.ofDays(3_000_000), Duration.ofSeconds(Long.MAX_VALUE))) {
            IllegalArgumentException after = assertThrows(IllegalArgumentException.class,
                    () -> delayed.publishAfter(step("far", "x"), d));
            assertTrue(after.getMessage().startsWith("delay "), after.getMessage());
        }
        IllegalArgumentException re = assertThrows(IllegalArgumentException.class,
                () -> delayed.reschedule("far", Instant.MAX));
        assertTrue(re.getMessage().startsWith("dueAt "), re.getMessage());
        assertEquals(0, delayed.waiting(), "nothing stored");

        delayed.publishAt(step("long-ago", "x"), Instant.MIN);
        delayed.publishAt(step("last", "x"), Instant.parse("9999-12-31T23:59:59.999Z"));
        Await.until(Duration.ofSeconds(10), () -> all.contains("long-ago"), () -> "ran: " + all);
        assertEquals(0L, started.get("long-ago")[1], "due at the epoch, which is past");
        assertEquals(1, delayed.waiting(), "the last millisecond of 9999 is accepted");
    }

    /**
     * Through the API: a proxy lets Redis run a cancel (then a reschedule) and drops its reply,
     * closing the connection; the transport sends the call again with the same call id, and the
     * partition that did it answers 1 again from its marker instead of "gone".
     */
    @Test
    void aCancelOrRescheduleWhoseReplyWasLostAnswersTrue(RedisServer redis) throws Exception {
        java.net.URI u = java.net.URI.create(redis.uri());
        try (ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
             RedisEventTransport t = RedisEventTransport.create(RedisOptions.builder()
                     .uri("redis://127.0.0.1:" + proxy.port()).partitions(4).build())) {
            DelayedEvents delayed = t.delayed().orElseThrow();
            // Loads the scripts first: a dropped NOSCRIPT answer would prove nothing.
            delayed.publishAfter(step("warm", "x"), Duration.ofHours(1));
            assertTrue(delayed.reschedule("warm", Instant.now().plus(Duration.ofHours(2))));
            assertTrue(delayed.cancel("warm"));
            delayed.publishAfter(step("c", "x"), Duration.ofHours(1));
            delayed.publishAfter(step("r", "y"), Duration.ofHours(1));

            proxy.dropReplyTo("delayed:cx:");
            assertTrue(delayed.cancel("c"), "the resend answers what the cancel did");
            assertEquals(1, proxy.dropped(), "one reply was lost");
            proxy.dropReplyTo("delayed:cx:");
            assertTrue(delayed.reschedule("r", Instant.now().plus(Duration.ofHours(2))));
            assertEquals(2, proxy.dropped());
            assertEquals(1, delayed.waiting(), "r waits; c is gone");
            assertFalse(delayed.cancel("c"), "a new call: it is gone");
        }
    }

    @Test
    void anEventTooLargeIsRefusedAndNothingIsStored(RedisServer redis) {
        RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(4).maxPayloadBytes(1024).build());
        WorkerService s = service(t);
        DelayedEvents delayed = s.delayed().orElseThrow();
        WorkflowEvent big = WorkflowEvent.builder("STEP").eventId("big").executionId("x")
                .payload(Map.of("blob", "x".repeat(4096))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> delayed.publishAfter(big, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("big"), e.getMessage());
        assertEquals(0, delayed.waiting());
    }
}
