package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.ScheduleJson;
import dev.workflowworker.core.schedule.ScheduleState;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.ReplyProxy;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A schedule's steps on several slots, interrupted or overtaken, on a real Redis. One process
 * (through a {@link ReplyProxy}, which holds the reply to its {@code schedule_leave} call: the
 * call ran, the caller waits or sees Redis go away) is stopped after its mark; the owner's looks
 * and other callers go on directly:
 * <ul>
 * <li>a stray's removal that fails after marking what turned out to be the live copy took it out
 * of the due set: no look came back to it, so it never fired again (and {@code get} said it did
 * not exist) until someone put it again;</li>
 * <li>a move that fails after its mark likewise left the old copy out of the due set and no new
 * one: only an API call on that schedule finished the move, the owners never did;</li>
 * <li>a finisher of a move that another finisher overtook, the schedule then moved on and back,
 * wrote the state it carried over the live copy: a pause (and any firing) since was undone.</li>
 * </ul>
 */
class ScheduleInterruptedStepsTest {

    private static final String LEASE = "owner";

    private SpawnedRedisServer server;
    private ReplyProxy proxy;
    private StreamClient direct;
    private StreamClient viaProxy;
    private TimeKeys keys;
    private ScheduleStore store;
    /** The same schedules, through the proxy: the caller that is held or cut off. */
    private ScheduleStore held;
    private ScheduleFiring firing;
    /** The slot the next put of the schedule names: its execution id's partition. */
    private final AtomicInteger slot = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        server = SpawnedRedisServer.builder().start();
        proxy = new ReplyProxy("127.0.0.1", server.port());
        RedisOptions options = server.options().stream("steps").partitions(3).build();
        RedisOptions proxied = server.options().uri("redis://127.0.0.1:" + proxy.port()).stream("steps")
                .partitions(3).build();
        direct = new StreamClient(options, new RedisConnector(options, null, "steps-test"), TimeSource.system());
        viaProxy = new StreamClient(proxied, new RedisConnector(proxied, null, "steps-held"), TimeSource.system());
        StreamKeys k = direct.keys();
        keys = new TimeKeys(3, k::partitionStream, k::partitionStream, k::partitionLease, k.scheduleHomes(),
                options.stream() + ":time-wake", true);
        store = new ScheduleStore(direct, keys, s -> slot.get(), e -> {
            throw new AssertionError("nothing is published here");
        });
        held = new ScheduleStore(viaProxy, keys, s -> slot.get(), e -> {
            throw new AssertionError("nothing is published here");
        });
        firing = new ScheduleFiring(direct, keys, store, (p, now) -> (eventId, entryId) -> true);
        // Loaded up front, as a transport does: a held caller's first leave must run, not answer NOSCRIPT.
        direct.scripts().loadAll(direct.redis());
        try (Jedis j = server.jedis()) {
            for (int p = 0; p < 3; p++) {
                j.set(keys.lease(p), LEASE); // this test's owner holds every slot
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        viaProxy.close();
        direct.close();
        proxy.close();
        server.close();
    }

    private static Schedule everySecond() {
        return Schedule.every("s", Duration.ofSeconds(1)).eventType("T").build();
    }

    private String home() {
        try (Jedis j = server.jedis()) {
            return j.hget(keys.homes(), "s");
        }
    }

    private long occurrencesIn(int p) {
        try (Jedis j = server.jedis()) {
            return j.xlen(keys.stream(p));
        }
    }

    /** Runs {@code step} on a thread of its own; {@return what it threw, once it ended} after Redis went away from it once its leave ran. */
    private Throwable cutOffAfterLeave(Runnable step) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        proxy.holdReplyTo("leave");
        Thread t = new Thread(() -> {
            try {
                step.run();
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.start();
        assertTrue(proxy.held.await(10, TimeUnit.SECONDS), "the leave ran");
        proxy.cutAndRefuse(); // Redis unreachable from that caller from now on
        t.join(20_000);
        assertTrue(!t.isAlive(), "the held caller gave up");
        return failed.get();
    }

    @Test
    void aRemovalCutOffAfterMarkingTheLiveCopyLeavesItFiring() throws Exception {
        slot.set(1);
        store.put(everySecond());
        // A stray in slot 0, due: the owner of slot 0 reads the hash ("1") and decides to remove
        // it. Before it does, the schedule's execution id changes and a put moves it into slot 0.
        Schedule s = everySecond();
        long now = System.currentTimeMillis();
        assertTrue(store.write(0, "s", ScheduleJson.write(s), "", "",
                ScheduleState.starting(FireTimes.of(s), now).encode(), now - 1_000), "the stray was written");
        slot.set(0);
        store.put(everySecond());
        assertEquals("0", home(), "moved");

        Throwable failed = cutOffAfterLeave(() -> held.removeStray(0, "s")); // as the owner decided on its read
        assertNotNull(failed, "the removal failed after its mark");

        // The owner of slot 0 looks on; the live copy fires there.
        Await.until(Duration.ofSeconds(10), () -> {
            firing.fireDue(0, LEASE, 0);
            return occurrencesIn(0) > 0;
        }, () -> "the live schedule never fired again (marked and out of the due set)");
        ScheduleInfo info = store.get("s").orElse(null);
        assertNotNull(info, "the live schedule is found");
        try (Jedis j = server.jedis()) {
            assertTrue(!j.hget(keys.scheduleStates(0), "s").startsWith(ScheduleStore.MOVING), "unmarked");
        }
    }

    @Test
    void aMoveCutOffAfterItsMarkIsFinishedByTheOwners() throws Exception {
        slot.set(0);
        store.put(everySecond());
        slot.set(1);
        Throwable failed = cutOffAfterLeave(() -> held.put(everySecond()));
        assertNotNull(failed, "the moving put failed after its mark");
        assertEquals("0>1", home(), "the move is recorded, not finished");

        // No API call on the schedule from now on: only the owners' looks.
        Await.until(Duration.ofSeconds(10), () -> {
            firing.fireDue(0, LEASE, 0);
            firing.fireDue(1, LEASE, 0);
            return occurrencesIn(1) > 0;
        }, () -> "the schedule never fired again; home " + home());
        assertEquals("1", home(), "the move was finished");
        try (Jedis j = server.jedis()) {
            assertNull(j.hget(keys.schedules(0), "s"), "the old copy is cleared");
        }
        assertEquals(0, occurrencesIn(0), "the marked copy never fired");
    }

    @Test
    void aFinisherOvertakenByLaterMovesDoesNotUndoThem() throws Exception {
        Schedule hourly = Schedule.every("s", Duration.ofHours(1)).eventType("T").build();
        slot.set(0);
        store.put(hourly);
        try (Jedis j = server.jedis()) {
            j.hset(keys.homes(), "s", "0>1"); // a put recorded a move to slot 1, then stopped
        }
        // The owner of slot 0 finds the move and finishes it: its leave runs, its reply is held.
        AtomicReference<Throwable> failed = new AtomicReference<>();
        proxy.holdReplyTo("leave");
        Thread late = new Thread(() -> {
            try {
                held.finishMove("s", new ScheduleStore.Home("0>1", System.currentTimeMillis()));
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        late.start();
        assertTrue(proxy.held.await(10, TimeUnit.SECONDS), "the late finisher's leave ran");

        // Meanwhile: another caller finishes the move, the schedule moves on to slot 2 and back
        // to slot 1, paused.
        assertTrue(store.get("s").isPresent());
        assertEquals("1", home());
        slot.set(2);
        store.put(hourly);
        assertEquals("2", home());
        slot.set(1);
        store.put(hourly.toBuilder().paused(true).build());
        assertEquals("1", home());
        String state;
        try (Jedis j = server.jedis()) {
            state = j.hget(keys.scheduleStates(1), "s");
        }

        proxy.release();
        late.join(20_000);
        assertFalse(late.isAlive(), "the late finisher did not end within 20 s");
        assertNull(failed.get(), "the late finisher");

        assertTrue(store.get("s").orElseThrow().schedule().paused(), "the pause was undone by the late finisher");
        try (Jedis j = server.jedis()) {
            assertEquals(state, j.hget(keys.scheduleStates(1), "s"), "the state was written over");
            assertNull(j.zscore(keys.schedulesDue(1), "s"), "paused: no place in the due set");
            assertNull(j.hget(keys.schedules(0), "s"), "the first move's old copy stays cleared");
            assertNull(j.hget(keys.schedules(2), "s"), "the second move's old copy stays cleared");
        }
        assertEquals("1", home());
    }
}
