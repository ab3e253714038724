package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.XReadGroupParams;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The time scripts as the shared stream calls them, on a real Redis: a slot without a lease names
 * its stream as the lease key with an empty value and is moved and fired by anyone, while a
 * partition's caller passing an empty value, by mistake or as a stale owner, is refused; and a
 * dead-lettered occurrence leaves the marker the overlap policy reads, and no processed marker.
 */
@ExtendWith(RedisServerExtension.class)
class SharedTimeScriptsTest {

    private static final String STREAM = "s";
    private static final String SET = "{s}:delayed";
    private static final String ENTRIES = "{s}:delayed:e";
    private static final String STATES = "{s}:sched:st";
    private static final String DUE = "{s}:sched:due";
    private static final String RUNS = "{s}:sched:run";
    private static final String DEFS = "{s}:sched";
    private static final String PARTITION = "{s#0}";
    private static final String LEASE = "{s#0}:lease";

    private static void add(RedisClient c, String set, String entries, String id) {
        c.eval(TimeScriptsTest.script("delayed_add.lua"), List.of(set, entries),
                List.of(id, "at", "1", TimeScriptsTest.pack(Map.of("event_id", id, "event_type", "T")), "s:wake", "0"));
    }

    @SuppressWarnings("unchecked")
    private static long move(RedisClient c, List<String> keys, String leaseValue) {
        return (Long) ((List<Object>) c.eval(TimeScriptsTest.script("delayed_move.lua"), keys,
                List.of(leaseValue, "100"))).get(0);
    }

    private static Object fire(RedisClient c, List<String> keys, String leaseValue, String id) {
        List<String> args = new ArrayList<>(List.of(leaseValue, id, "next=1000", "next=2000", "2000", "1000", "1", "{}"));
        args.add(TimeScriptsTest.pack(Map.of("event_id", id + ":1000", "event_type", "T")));
        return c.eval(TimeScriptsTest.script("schedule_fire.lua"), keys, args);
    }

    @Test
    void anEmptyLeaseValueSkipsTheCheckOnlyWhenTheStreamIsNamedAsTheLease(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            String pSet = PARTITION + ":delayed";
            String pEntries = PARTITION + ":delayed:e";
            add(c, pSet, pEntries, "p");
            List<String> partitionKeys = List.of(LEASE, pSet, pEntries, PARTITION);
            assertEquals(-1, move(c, partitionKeys, ""), "no lease at all: a partition's empty value is refused");
            c.set(LEASE, "owner|7");
            assertEquals(-1, move(c, partitionKeys, ""), "someone else's lease: refused");
            assertEquals(1, c.zcard(pSet), "nothing moved");

            add(c, SET, ENTRIES, "shared");
            assertEquals(1, move(c, List.of(STREAM, SET, ENTRIES, STREAM), ""), "the shared slot has no lease");
            assertEquals("shared", c.xrange(STREAM, (StreamEntryID) null, null).get(0).getFields().get("event_id"));

            String pStates = PARTITION + ":sched:st";
            c.hset(pStates, "t", "next=1000");
            c.hset(PARTITION + ":sched", "t", "{}");
            assertEquals(-1L, fire(c, List.of(LEASE, pStates, PARTITION + ":sched:due", PARTITION,
                    PARTITION + ":sched:run", PARTITION + ":sched"), "", "t"), "a partition's empty value fires nothing");
            assertEquals("next=1000", c.hget(pStates, "t"));

            c.hset(STATES, "t", "next=1000");
            c.hset(DEFS, "t", "{}");
            List<String> sharedKeys = List.of(STREAM, STATES, DUE, STREAM, RUNS, DEFS);
            assertEquals(1L, fire(c, sharedKeys, "", "t"));
            assertEquals(0L, fire(c, sharedKeys, "", "t"), "a second process computing from the same state writes nothing");
            assertEquals(List.of("shared", "t:1000"), c.xrange(STREAM, (StreamEntryID) null, null).stream()
                    .map(e -> e.getFields().get("event_id")).toList());
        }
    }

    @Test
    void aDeadLetteredOccurrenceLeavesItsDeadMarkerAndNoProcessedMarker(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.xgroupCreate(STREAM, "g", new StreamEntryID(0, 0), true);
            StreamEntryID occurrence = c.xadd(STREAM, StreamEntryID.NEW_ENTRY, Map.of("event_id", "t:1000"));
            StreamEntryID other = c.xadd(STREAM, StreamEntryID.NEW_ENTRY, Map.of("event_id", "plain"));
            c.xreadGroup("g", "c1", XReadGroupParams.xReadGroupParams().count(2),
                    Map.of(STREAM, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
            String script = TimeScriptsTest.script("dead_letter.lua");
            assertTrue(c.eval(script, List.of(STREAM, "s:dlq", "wf:dead:t:1000"),
                    List.of("g", occurrence.toString(), "1000", "60000", "event_id", "t:1000")) != null);
            assertEquals("1", c.get("wf:dead:t:1000"));
            long ttl = c.pttl("wf:dead:t:1000");
            assertTrue(ttl > 0 && ttl <= 60_000, "kept as long as a processed marker: " + ttl);
            assertNull(c.get("wf:processed:t:1000"), "a replay must still run");

            assertTrue(c.eval(script, List.of(STREAM, "s:dlq"),
                    List.of("g", other.toString(), "1000", "60000", "event_id", "plain")) != null);
            assertEquals(2, c.xlen("s:dlq"));
            assertEquals(List.of("t:1000", "plain"), c.xrange("s:dlq", (StreamEntryID) null, null).stream()
                    .map(e -> e.getFields().get("event_id")).toList(), "the fields after the marker's lifetime");
            assertNull(c.eval(script, List.of(STREAM, "s:dlq", "wf:dead:again"),
                    List.of("g", other.toString(), "1000", "60000", "event_id", "plain")), "settled already");
            assertNull(c.get("wf:dead:again"), "nothing written for an entry no longer pending");
        }
    }
}
