package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The timers loop looks at every held slot once a second whatever the wakes said; most of those
 * looks find no schedule due. Such a look asked Redis twice (the due schedules, then the earliest
 * one); the earliest alone answers it, so an idle process sends one call per slot and second for
 * its schedules, not two.
 */
class ScheduleIdleLookTest {

    private SpawnedRedisServer server;
    private StreamClient client;
    private TimeKeys keys;
    private ScheduleFiring firing;

    @BeforeEach
    void start() {
        server = SpawnedRedisServer.builder().start();
        RedisOptions options = server.options().stream("idle-look").partitions(1).build();
        client = new StreamClient(options, new RedisConnector(options, null, "idle-look-test"), TimeSource.system());
        // A partition's time keys, as PartitionKeys makes them.
        StreamKeys k = client.keys();
        keys = new TimeKeys(1, k::partitionStream, k::partitionStream, k::partitionLease, k.scheduleHomes(),
                options.stream() + ":time-wake", true);
        ScheduleStore store = new ScheduleStore(client, keys, s -> 0, e -> {
            throw new AssertionError("nothing is published here");
        });
        firing = new ScheduleFiring(client, keys, store, (slot, now) -> (eventId, entryId) -> true);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private long zrangebyscoreCalls() {
        try (Jedis j = server.jedis()) {
            for (String line : j.info("commandstats").split("\r?\n")) {
                if (line.startsWith("cmdstat_zrangebyscore:")) {
                    return Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
                }
            }
            return 0;
        }
    }

    @Test
    void aLookWithNoScheduleAsksOnce() {
        long before = zrangebyscoreCalls();
        assertEquals(ScheduleStore.NONE, firing.fireDue(0, "", 0));
        assertEquals(before, zrangebyscoreCalls(), "no due schedule read when the set is empty");
    }

    @Test
    void aLookBeforeTheEarliestDueTimeAsksOnceAndReturnsIt() {
        long later = System.currentTimeMillis() + 3_600_000;
        try (Jedis j = server.jedis()) {
            j.zadd(keys.schedulesDue(0), later, "later");
        }
        long before = zrangebyscoreCalls();
        assertEquals(later, firing.fireDue(0, "", 0));
        assertEquals(before, zrangebyscoreCalls(), "no due schedule read before the earliest is due");
    }

    @Test
    void aDueEntryIsStillRead() {
        long past = System.currentTimeMillis() - 1_000;
        try (Jedis j = server.jedis()) {
            // Due, with no definition nor home: a stray, left for the look's own rules.
            j.zadd(keys.schedulesDue(0), past, "stray");
        }
        long before = zrangebyscoreCalls();
        firing.fireDue(0, "", 0);
        assertEquals(before + 1, zrangebyscoreCalls(), "a due schedule is read as before");
    }

    @Test
    void aDueEntryWithNoScheduleBehindItLeavesTheDueSet() {
        long past = System.currentTimeMillis() - 1_000;
        try (Jedis j = server.jedis()) {
            // No definition, state or home: nothing can ever fire it. Left in the set, its past
            // score came back as the next due time and the timers loop looked again at once, on
            // and on.
            j.zadd(keys.schedulesDue(0), past, "stray");
        }
        assertEquals(ScheduleStore.NONE, firing.fireDue(0, "", 0), "no due time left");
        try (Jedis j = server.jedis()) {
            assertEquals(0, j.zcard(keys.schedulesDue(0)));
        }
    }
}
