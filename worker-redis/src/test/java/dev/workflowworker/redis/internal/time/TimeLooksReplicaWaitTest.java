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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A look pass of the timers loop asks Redis, per slot, to move its due delayed events (a write)
 * and for its earliest schedule (a read). Every call of the pass waited for the replicas
 * ({@code waitForReplicas}): a replica falling short failed the read too, and with it the firing
 * of the slot's due schedules, which have their own acknowledgement. Here no replica ever
 * answers: the move's shortfall is still reported, and the schedule due fires (its own shortfall
 * reported by its firing).
 */
class TimeLooksReplicaWaitTest {

    private static final String LEASE = "owner";

    private SpawnedRedisServer server;
    private StreamClient client;
    private TimeKeys keys;
    private TimeLooks looks;

    @BeforeEach
    void start() {
        server = SpawnedRedisServer.builder().start();
        // One replica asked for and none there: every WAIT answers 0 after 50 ms.
        RedisOptions options = server.options().stream("looks-wait").partitions(1)
                .waitForReplicas(1, Duration.ofMillis(50)).build();
        client = new StreamClient(options, new RedisConnector(options, null, "looks-wait-test"), TimeSource.system());
        StreamKeys k = client.keys();
        keys = new TimeKeys(1, k::partitionStream, k::partitionStream, k::partitionLease, k.scheduleHomes(),
                options.stream() + ":time-wake", true);
        ScheduleStore store = new ScheduleStore(client, keys, s -> 0, e -> {
            throw new AssertionError("nothing is published here");
        });
        looks = new TimeLooks(client, keys, new ScheduleFiring(client, keys, store, (p, now) -> (eventId, entryId) -> true));
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void aMoveShortOfItsReplicasDoesNotHoldTheDueSchedulesUp() {
        Schedule s = Schedule.every("s", Duration.ofSeconds(1)).eventType("T").build();
        long now = System.currentTimeMillis();
        try (Jedis j = server.jedis()) {
            j.set(keys.lease(0), LEASE);
            // Written by hand: the store's own writes wait for the replicas too.
            j.hset(keys.homes(), "s", "0");
            j.hset(keys.schedules(0), "s", ScheduleJson.write(s));
            j.hset(keys.scheduleStates(0), "s", ScheduleState.starting(FireTimes.of(s), now - 3_000).encode());
            j.zadd(keys.schedulesDue(0), now - 2_000, "s");
        }

        TimeLooks.Pass pass = looks.look(new int[]{0}, new String[]{LEASE}, 1, 200);

        assertEquals(1, pass.failures(), "the slot's look reports a shortfall");
        assertTrue(String.valueOf(pass.failed().getMessage()).contains("replica"), "a shortfall: " + pass.failed());
        try (Jedis j = server.jedis()) {
            assertTrue(j.xlen(keys.stream(0)) > 0,
                    "the due schedule did not fire: the read of its due time failed with the move's WAIT");
        }
    }
}
