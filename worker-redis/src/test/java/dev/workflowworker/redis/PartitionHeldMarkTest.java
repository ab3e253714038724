package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A retry's held mark ({@code {S#i}:held}) does not outlive its entry's settlement, on a
 * real Redis. A hold may carry attempt 1 (a lease lost under a running handler redelivers without
 * counting an attempt), and its entry's commit must drop the mark all the same, whether the owner
 * that held it or the next one commits; a hold that reaches Redis after its entry was settled
 * (its reply was lost and the partition reopened meanwhile) records nothing, and one that lands
 * before its entry's commit unknown to that owner goes with the next trim. A mark left behind
 * counts as a retry waiting in the stream's statistics until the partition is next opened. See
 * docs/ARCHITECTURE.md, "Ordered processing".
 */
@ExtendWith(RedisServerExtension.class)
class PartitionHeldMarkTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static List<Delivery> poll(EventTransport.Consumer c) throws InterruptedException {
        List<Delivery> got = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (got.isEmpty() && System.nanoTime() < deadline) {
            got.addAll(c.read(1, Duration.ofMillis(200)));
        }
        assertEquals(1, got.size(), "the entry was not delivered within " + WAIT);
        return got;
    }

    private static RedisOptions options(RedisServer redis, String stream) {
        return redis.options().stream(stream).partitions(1).partitionLeaseTtl(Duration.ofSeconds(5)).build();
    }

    private static void publish(RedisEventTransport t) {
        t.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1").payload(Map.of("index", 0)).build());
    }

    private static Map<String, String> held(RedisServer redis, RedisOptions options) {
        try (RedisClient c = redis.client()) {
            return TestInternals.heldMarks(c.hgetAll(options.partitionHeld(0)));
        }
    }

    private static String committed(RedisServer redis, RedisOptions options) {
        try (RedisClient c = redis.client()) {
            return c.hget(TestKeys.partitionStream(options, 0) + ":log", "c");
        }
    }

    @Test
    void aHoldForAttemptOneIsDroppedWhenItsEntryCommits(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, "held:same-owner");
        try (RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            publish(t);
            Delivery first = poll(c).get(0);
            c.retryAt(first, Instant.now().plusMillis(200), 1);
            assertEquals(1, held(redis, options).size(), "the hold was not recorded");
            Delivery again = poll(c).get(0);
            assertEquals(first.id(), again.id());
            assertEquals(1, again.attempt());
            c.complete(List.of(again));
            assertEquals(Partition.entry(again), committed(redis, options), "the entry was not committed");
            assertEquals(Map.of(), held(redis, options), "the committed entry's hold was left behind");
            assertEquals(0, t.stats().orElseThrow().retryScheduled(), "a retry still counted as waiting");
        }
    }

    @Test
    void aHoldForAttemptOneTakenOverByTheNextOwnerIsDroppedWhenItCommits(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, "held:next-owner");
        try (RedisEventTransport a = RedisEventTransport.create(options)) {
            EventTransport.Consumer c = a.openConsumer("a");
            publish(a);
            c.retryAt(poll(c).get(0), Instant.now().plusMillis(200), 1);
            c.close();
        }
        assertEquals(1, held(redis, options).size(), "the hold was not handed over");
        try (RedisEventTransport b = RedisEventTransport.create(options);
             EventTransport.Consumer c = b.openConsumer("b")) {
            Delivery d = poll(c).get(0);
            assertEquals(1, d.attempt());
            c.complete(List.of(d));
            assertEquals(Partition.entry(d), committed(redis, options), "the entry was not committed");
            assertEquals(Map.of(), held(redis, options), "the committed entry's hold was left behind");
        }
    }

    /** {@code partition_hold.lua} on its own: a hold for an entry settled already writes nothing. */
    @Test
    void aHoldReachingRedisAfterItsEntryWasSettledRecordsNothing(RedisServer redis) {
        String lease = "{h#0}:lease";
        String heldKey = "{h#0}:held";
        String log = "{h#0}:log";
        String settled = "{h#0}:settled";
        List<String> keys = List.of(lease, heldKey, log, settled);
        String script = TimeScriptsTest.script("partition_hold.lua");
        try (RedisClient c = redis.client()) {
            c.set(lease, "me|1");
            c.hset(log, "c", "10-0");
            c.sadd(settled, "12-0");
            // at the position, below it (entries 10-0 and 9-5 compare as numbers, not text), settled above it
            for (String id : List.of("10-0", "9-5", "12-0")) {
                assertEquals(2L, c.eval(script, keys, List.of("me|1", id, "2:1000")), id);
            }
            assertEquals(Map.of(), c.hgetAll(heldKey), "a settled entry got a hold");
            assertEquals(1L, c.eval(script, keys, List.of("me|1", "11-0", "2:1000")));
            assertEquals(1L, c.eval(script, keys, List.of("me|1", "100-0", "2:1000")));
            assertEquals(Map.of("11-0", "2:1000", "100-0", "2:1000"), c.hgetAll(heldKey));
            assertEquals(0L, c.eval(script, keys, List.of("other|2", "13-0", "2:1000")), "a stale lease");
            assertTrue(!c.hexists(heldKey, "13-0"), "a stale lease wrote a hold");
        }
    }

    /**
     * {@code partition_trim.lua} on its own: marks at or below the position go (a hold that landed
     * after the reopen that followed its lost reply, unknown to the log that committed its entry),
     * a mark above it stays.
     */
    @Test
    void theTrimDropsHeldMarksAtOrBelowThePosition(RedisServer redis) {
        String stream = "{t#0}";
        String heldKey = stream + ":held";
        String log = stream + ":log";
        String script = TimeScriptsTest.script("partition_trim.lua");
        try (RedisClient c = redis.client()) {
            c.hset(log, "c", "10-0");
            c.hset(heldKey, Map.of("10-0", "1:5", "9-5", "2:5", "11-0", "2:5", "100-0", "3:5"));
            c.eval(script, List.of(stream, log, heldKey), List.of());
            assertEquals(Map.of("11-0", "2:5", "100-0", "3:5"), c.hgetAll(heldKey));
        }
    }

    /**
     * The trim reads the marks only when there is one: its guard counted the open's placeholder
     * as a mark, so every trim of every owned partition read the whole hash (HKEYS) to find none.
     * A single mark with no placeholder beside it (a partition no open of this version has seen)
     * still goes.
     */
    @Test
    void theTrimReadsNoMarksWhenOnlyThePlaceholderIsThere(RedisServer redis) {
        String stream = "{t#1}";
        String heldKey = stream + ":held";
        String log = stream + ":log";
        String script = TimeScriptsTest.script("partition_trim.lua");
        try (RedisClient c = redis.client()) {
            c.hset(log, "c", "10-0");
            c.hset(heldKey, "0-0", "0:0");
            long before = hkeysCalls(c);
            c.eval(script, List.of(stream, log, heldKey), List.of());
            assertEquals(before, hkeysCalls(c), "the marks were read with only the placeholder there");
            assertEquals(Map.of("0-0", "0:0"), c.hgetAll(heldKey));

            c.del(heldKey);
            c.hset(heldKey, "9-0", "2:5");
            c.eval(script, List.of(stream, log, heldKey), List.of());
            assertEquals(Map.of(), c.hgetAll(heldKey), "a lone mark below the position, no placeholder");
        }
    }

    private static long hkeysCalls(RedisClient c) {
        for (String line : c.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_hkeys:")) {
                return Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
            }
        }
        return 0;
    }

    /** Delivery ids of a partitioned stream are "partition/entry id". */
    private static final class Partition {
        static String entry(Delivery d) {
            return d.id().substring(d.id().indexOf('/') + 1);
        }
    }
}
