package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleJson;
import dev.workflowworker.core.schedule.ScheduleState;
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
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mover of a slot removes a due copy of a schedule that the homes hash does not name
 * ({@link ScheduleFiring#fireDue}: the hash is read with one HMGET for the whole due batch, then
 * each stray is removed). A move of the schedule into that slot may finish between the read and
 * the removal: it writes the live copy over the stray and records the slot as its home. Removing
 * on the stale read cleared that live copy, and the schedule was gone (its home naming a slot
 * that held nothing) until someone put it again. Here the move finishes, then the removal runs as
 * the firing would have run it: on the code before, the schedule was gone. On a real Redis.
 */
class ScheduleStrayRemovalTest {

    private SpawnedRedisServer server;
    private StreamClient client;
    private TimeKeys keys;
    private ScheduleStore store;
    /** The slot the next put of the schedule names: its execution id's partition. */
    private final AtomicInteger slot = new AtomicInteger();

    @BeforeEach
    void start() {
        server = SpawnedRedisServer.builder().start();
        RedisOptions options = server.options().stream("stray").partitions(2).build();
        client = new StreamClient(options, new RedisConnector(options, null, "stray-test"), TimeSource.system());
        StreamKeys k = client.keys();
        keys = new TimeKeys(2, k::partitionStream, k::partitionStream, k::partitionLease, k.scheduleHomes(),
                options.stream() + ":time-wake", true);
        store = new ScheduleStore(client, keys, s -> slot.get(), e -> {
            throw new AssertionError("nothing is published here");
        });
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private static Schedule hourly() {
        return Schedule.every("s", Duration.ofHours(1)).eventType("T").build();
    }

    /** A copy of the schedule in slot {@code p} that the hash does not name, due now: a leftover of an earlier move. */
    private void strayIn(int p) {
        Schedule s = hourly();
        long now = System.currentTimeMillis();
        assertTrue(store.write(p, "s", ScheduleJson.write(s), "", "", ScheduleState.starting(FireTimes.of(s), now)
                .encode(), now - 1_000), "the stray was written");
    }

    private String home() {
        try (Jedis j = server.jedis()) {
            return j.hget(keys.homes(), "s");
        }
    }

    @Test
    void aStrayRemovedAfterAMoveHereFinishedKeepsTheMovedSchedule() {
        slot.set(1);
        store.put(hourly());
        strayIn(0);
        // The mover of slot 0 reads the hash now: "1", so its copy is a stray to remove. Before it
        // does, the schedule's execution id changes and a put moves it into slot 0.
        assertEquals("1", home());
        slot.set(0);
        store.put(hourly());
        assertEquals("0", home(), "moved");

        store.removeStray(0, "s"); // as the mover decided on its read

        assertTrue(store.get("s").isPresent(), "the moved schedule was removed as a stray");
        try (Jedis j = server.jedis()) {
            String state = j.hget(keys.scheduleStates(0), "s");
            assertNotNull(state);
            assertFalse(state.startsWith(ScheduleStore.MOVING), "left marked as leaving: " + state);
            assertNotNull(j.zscore(keys.schedulesDue(0), "s"), "no place in the due set: it would never fire");
            assertNull(j.hget(keys.schedules(1), "s"), "the old copy stays cleared");
        }
    }

    @Test
    void aStrayTheHashDoesNotNameIsStillRemoved() {
        slot.set(1);
        store.put(hourly());
        strayIn(0);

        store.removeStray(0, "s");

        try (Jedis j = server.jedis()) {
            assertNull(j.hget(keys.schedules(0), "s"), "the stray's definition");
            assertNull(j.hget(keys.scheduleStates(0), "s"), "the stray's state");
            assertNull(j.zscore(keys.schedulesDue(0), "s"), "the stray's place in the due set");
        }
        assertEquals("1", home());
        assertTrue(store.get("s").isPresent(), "the live copy");
    }
}
