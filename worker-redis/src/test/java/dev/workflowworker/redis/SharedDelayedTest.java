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
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delayed events on the shared stream ({@code partitions(0)}), on a real Redis: an event runs
 * once at its due time whichever of several consuming processes moves it, cancel and reschedule
 * answer whether it still waited (also after a lost reply), an event waits through the restart
 * of every worker, a process that only publishes moves nothing, and a wake lost on the way is
 * made up by the next sweep. Judged from the ledger the handlers write.
 */
@ExtendWith(RedisServerExtension.class)
class SharedDelayedTest {

    private final List<WorkerService> services = new ArrayList<>();
    /** Every event id the handlers started, in start order. */
    private final List<String> ledger = new CopyOnWriteArrayList<>();
    /** Per event id, when its handler started (ms) and the due-at header it saw. */
    private final Map<String, long[]> started = new ConcurrentHashMap<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    /**
     * A stream of this test's own: a transport another test left consuming the default stream
     * would move and fire this test's events.
     */
    private final String stream = "shared-time-" + java.util.UUID.randomUUID();

    private RedisOptions options(RedisServer redis) {
        return redis.options().stream(stream).partitions(0).build();
    }

    private WorkerService service(RedisServer redis) {
        RedisEventTransport t = RedisEventTransport.create(options(redis));
        WorkerService s = WorkerService.builder().transport(t).lockProvider(t.locks())
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    WorkflowEvent e = ctx.event();
                    String due = e.headers().get(DelayedEvents.DUE_AT_HEADER);
                    started.put(e.eventId(), new long[]{System.currentTimeMillis(),
                            due == null ? -1 : Instant.parse(due).toEpochMilli()});
                    ledger.add(e.eventId());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    private static WorkflowEvent step(String id) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId("exec-" + id).payload(Map.of("n", 1)).build();
    }

    private static long redisMillis(RedisClient c) {
        return (Long) c.eval("local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
    }

    @Test
    void eachDelayedEventRunsOnceAtItsDueTimeWhileTwoProcessesMoveThem(RedisServer redis) {
        WorkerService a = service(redis);
        service(redis);
        DelayedEvents delayed = a.delayed().orElseThrow();
        Instant now = Instant.now();
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            String id = "d" + k;
            ids.add(id);
            if (k % 2 == 0) {
                delayed.publishAfter(step(id), Duration.ofMillis(200 + 20L * k));
            } else {
                delayed.publishAt(step(id), now.plusMillis(200 + 20L * k));
            }
        }
        Await.until(Duration.ofSeconds(15), () -> ledger.size() >= ids.size(), () -> "all ran: " + ledger);
        assertEquals(ids.size(), ledger.size(), "none twice: " + ledger);
        assertEquals(new java.util.HashSet<>(ids), new java.util.HashSet<>(ledger));
        for (String id : ids) {
            long[] at = started.get(id);
            assertTrue(at[1] > 0, id + " carries its due time");
            assertTrue(at[0] >= at[1], id + " started " + (at[1] - at[0]) + " ms before it was due");
        }
        assertEquals(0, delayed.waiting());
    }

    @Test
    void cancelAndRescheduleAnswerWhetherTheEventStillWaited(RedisServer redis) {
        WorkerService s = service(redis);
        DelayedEvents delayed = s.delayed().orElseThrow();
        Instant now = Instant.now();
        delayed.publishAt(step("c1"), now.plusMillis(300));
        delayed.publishAt(step("c2"), now.plus(Duration.ofHours(1)));
        delayed.publishAt(step("c3"), now.plusMillis(900));
        delayed.publishAt(step("c3"), now.plusMillis(200)); // a repeated publish changes nothing
        assertEquals(3, delayed.waiting());

        assertTrue(delayed.cancel("c1"));
        assertFalse(delayed.cancel("c1"), "cancelled already");
        assertFalse(delayed.cancel("never-published"));
        assertTrue(delayed.reschedule("c2", now.plusMillis(500)));
        assertFalse(delayed.reschedule("never-published", now));

        Await.until(Duration.ofSeconds(10), () -> ledger.contains("c2") && ledger.contains("c3"),
                () -> "c2 and c3 ran: " + ledger);
        assertEquals(List.of("c2", "c3"), ledger, "c1 never ran; c2 ran at its new time, c3 at its first");
        assertEquals(now.plusMillis(500).toEpochMilli(), started.get("c2")[1], "the header follows the new due time");
        assertEquals(now.plusMillis(900).toEpochMilli(), started.get("c3")[1]);
        assertFalse(delayed.cancel("c2"), "it ran: nothing to cancel");
        assertFalse(delayed.reschedule("c3", now), "it ran: nothing to reschedule");
    }

    /**
     * Every worker stops while events wait; a process that only publishes moves nothing, even
     * after their due time by Redis's clock; the next worker to start runs each once.
     */
    @Test
    void delayedEventsWaitThroughTheRestartOfEveryWorker(RedisServer redis) {
        WorkerService a = service(redis);
        // Due in an hour, so nothing comes due while the worker shuts down.
        a.delayed().orElseThrow().publishAfter(step("r1"), Duration.ofHours(1));
        a.close();
        try (RedisEventTransport producer = RedisEventTransport.create(options(redis));
             RedisClient c = redis.client()) {
            DelayedEvents delayed = producer.delayed().orElseThrow();
            assertTrue(delayed.reschedule("r1", Instant.now().plusMillis(200)));
            delayed.publishAfter(step("r2"), Duration.ofMillis(300));
            long due = redisMillis(c) + 500;
            Await.until(Duration.ofSeconds(5), () -> redisMillis(c) > due, () -> "Redis time passed the due times");
            producer.publish(step("plain")); // a publishing process: it consumes nothing, so it moves nothing
            assertEquals(2, delayed.waiting(), "nothing moved while no worker ran");
        }
        assertTrue(ledger.isEmpty(), "nothing ran while no worker ran: " + ledger);
        WorkerService b = service(redis);
        Await.until(Duration.ofSeconds(10), () -> ledger.size() >= 3, () -> "all ran: " + ledger);
        assertEquals(3, ledger.size(), "once each: " + ledger);
        assertTrue(ledger.containsAll(List.of("r1", "r2", "plain")), ledger.toString());
        assertEquals(0, b.delayed().orElseThrow().waiting());
    }

    @Test
    void anEventMadeDueWithoutAWakeRunsByTheNextSweep(RedisServer redis) {
        WorkerService s = service(redis);
        DelayedEvents delayed = s.delayed().orElseThrow();
        delayed.publishAfter(step("quiet"), Duration.ofHours(1));
        // Once this one ran, the loop has looked since "quiet" was stored and sleeps towards its hour.
        delayed.publishAfter(step("marker"), Duration.ofMillis(300));
        Await.until(Duration.ofSeconds(10), () -> ledger.contains("marker"), () -> "the marker ran: " + ledger);
        try (RedisClient c = redis.client()) {
            String set = TestInternals.keys(options(redis)).sharedTime() + ":delayed";
            assertEquals(0L, c.zadd(set, redisMillis(c) + 100, "quiet"), "the event's place was updated, not added");
        }
        Await.until(Duration.ofSeconds(10), () -> ledger.contains("quiet"),
                () -> "the event made due without a wake ran: " + ledger);
        assertEquals(List.of("marker", "quiet"), ledger);
    }

    /** The transport's own interface, as a producer uses it, and a cancel whose reply was lost. */
    @Test
    void aCancelWhoseReplyWasLostAnswersTrueThroughTheTransport(RedisServer redis) throws Exception {
        java.net.URI u = java.net.URI.create(redis.uri());
        try (ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
             RedisEventTransport t = RedisEventTransport.create(RedisOptions.builder()
                     .uri("redis://127.0.0.1:" + proxy.port()).stream(stream).partitions(0).build())) {
            DelayedEvents delayed = t.delayed().orElseThrow();
            delayed.publishAfter(step("warm"), Duration.ofHours(1)); // loads the scripts first
            assertTrue(delayed.cancel("warm"));
            delayed.publishAfter(step("c"), Duration.ofHours(1));
            delayed.publishAfter(step("r"), Duration.ofHours(1));
            proxy.dropReplyTo("delayed:cx:");
            assertTrue(delayed.cancel("c"), "the resend answers what the cancel did");
            assertEquals(1, proxy.dropped(), "one reply was lost");
            proxy.dropReplyTo("delayed:cx:");
            assertTrue(delayed.reschedule("r", Instant.now().plus(Duration.ofHours(2))));
            assertEquals(2, proxy.dropped());
            assertEquals(1, delayed.waiting(), "r waits; c is gone");
        }
    }
}
