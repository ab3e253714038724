package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The outcome scripts' owner check against the log alone (docs/ARCHITECTURE.md, "Why a stale
 * reader cannot lose, duplicate or reorder", point 1): an outcome stamped with an open lands
 * until any process opens the partition again, whatever became of the lease meanwhile, and the
 * next open reads what it wrote; and an open's number never repeats, even after the log was lost.
 */
@ExtendWith(RedisServerExtension.class)
class OutcomeFenceScriptTest {

    private static final String P = "{fence#0}";
    private static final List<String> OPEN_KEYS = List.of(P + ":lease", P + ":log", P + ":settled", P + ":held",
            P + ":recent", P + ":dlq", P, P + ":completed");
    private static final List<String> COMMIT_KEYS = List.of(P + ":lease", P + ":log", P + ":settled", P + ":held",
            P + ":recent");
    private static final List<String> HOLD_KEYS = List.of(P + ":lease", P + ":held", P + ":log", P + ":settled");
    private static final List<String> DEAD_LETTER_KEYS = List.of(P + ":lease", P + ":settled", P + ":held", P + ":dlq",
            P + ":log");
    private static final String OPEN = TimeScriptsTest.script("partition_open.lua");
    private static final String COMMIT = TimeScriptsTest.script("partition_commit.lua");
    private static final String HOLD = TimeScriptsTest.script("partition_hold.lua");
    private static final String DEAD_LETTER = TimeScriptsTest.script("partition_dead_letter.lua");

    private static List<?> open(RedisClient c, String lease) {
        return (List<?>) c.eval(OPEN, OPEN_KEYS, List.of(lease, "g", "100"));
    }

    /** A commit settling entry {@code id} (the position moves onto it) and remembering {@code eventId}. */
    private static Object commit(RedisClient c, String stamp, String id, long count, String eventId) {
        List<String> args = new ArrayList<>(List.of(stamp, id, Long.toString(count), "100",
                "1|" + eventId.length() + ":" + eventId, "0", "0", "0"));
        return c.eval(COMMIT, COMMIT_KEYS, args);
    }

    @Test
    void aLostLogCountsItsOpensAboveEveryOpenOfTheLostOne(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.xadd(P, new StreamEntryID(5, 0), Map.of("k", "v"));
            c.set(P + ":lease", "me|7");
            long before = (Long) open(c, "me|7").get(5);
            // the log hash is lost while its stream lives on; the same owner reopens it
            c.del(P + ":log");
            long after = (Long) open(c, "me|7").get(5);
            assertTrue(after > before, "the open after the loss is numbered " + after + ", not above " + before);
            assertEquals(-2L, commit(c, "me|7#" + before, "5-0", 1, "ev-5"),
                    "an outcome stamped with an open of the lost log landed");
            assertEquals("0-0", c.hget(P + ":log", "c"));
            assertEquals(List.of(), TestInternals.recentCompletions(c.lrange(P + ":recent", 0, -1)));
            assertEquals(1L, commit(c, "me|7#" + after, "5-0", 1, "ev-5"));
        }
    }

    /**
     * A failover without waitForReplicas can keep a new owner's lease and drop its open (replicated
     * after it): the log still names the previous owner's open. The new owner's outcome is then
     * one of an open the log no longer has, as after a reopen (-2: reopen at once), not a lost
     * lease (-1), which left the partition idle until the lease ran out.
     */
    @Test
    void anOpenLostWhileItsLeaseStayedReadsAsOpenedAgainNotAsALostLease(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.xadd(P, new StreamEntryID(5, 0), Map.of("k", "v"));
            c.set(P + ":lease", "old|7");
            Object oldOpen = open(c, "old|7").get(5);
            c.set(P + ":lease", "new|8");
            String stamp = "new|8#" + open(c, "new|8").get(5);
            // the failover: the lease survived, the open did not
            c.hset(P + ":log", Map.of("o", "old|7", "e", oldOpen.toString()));

            assertEquals(-2L, commit(c, stamp, "5-0", 1, "ev-5"), "the new owner's commit");
            assertEquals(3L, c.eval(HOLD, HOLD_KEYS, List.of(stamp, "5-0", "2:1000")), "its hold");
            assertEquals("0-0", c.hget(P + ":log", "c"));
            c.set(P + ":lease", "other|9");
            assertEquals(-1L, commit(c, stamp, "5-0", 1, "ev-5"), "once the lease is another's, lost");
        }
    }

    @Test
    void aStampedOutcomeLandsUntilThePartitionIsOpenedAgainAndTheOpenReadsIt(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            for (int i = 5; i <= 8; i++) {
                c.xadd(P, new StreamEntryID(i, 0), Map.of("k", "v"));
            }
            c.set(P + ":lease", "me|7");
            String stamp = "me|7#" + open(c, "me|7").get(5);

            // the lease expired; nobody took it: the owner's outcomes still land, none was read elsewhere
            c.del(P + ":lease");
            assertEquals(1L, commit(c, stamp, "5-0", 1, "ev-5"), "a commit after the lease expired");
            assertEquals(1L, c.eval(HOLD, HOLD_KEYS, List.of(stamp, "7-0", "2:1000")), "a hold after it expired");

            // another process took the lease but has not opened the partition yet: it has read nothing
            c.set(P + ":lease", "next|8");
            assertEquals(1L, commit(c, stamp, "6-0", 2, "ev-6"), "a commit before the next owner's open");
            assertEquals(1L, c.eval(DEAD_LETTER, DEAD_LETTER_KEYS, List.of(stamp, "8-0", "100", "f", "v")),
                    "a dead letter before the next owner's open");

            // the next owner's open sees all of it
            List<?> state = open(c, "next|8");
            assertEquals("6-0", text(state.get(0)), "committed position");
            assertEquals(2L, state.get(1), "committed count");
            assertEquals(List.of("8-0"), texts(state.get(2)), "settled above the position");
            assertEquals(List.of("7-0", "2:1000"), texts(state.get(3)), "held");
            assertEquals(List.of("1|4:ev-5", "1|4:ev-6"), TestInternals.recentCompletions(texts(state.get(4))), "recent");

            // from then on the earlier owner writes nothing
            Map<String, String> log = c.hgetAll(P + ":log");
            assertEquals(-1L, commit(c, stamp, "7-0", 3, "ev-7"), "a commit after the next owner's open");
            assertEquals(0L, c.eval(HOLD, HOLD_KEYS, List.of(stamp, "7-0", "3:1000")), "a hold after it");
            assertEquals(-1L, c.eval(DEAD_LETTER, DEAD_LETTER_KEYS, List.of(stamp, "7-0", "100", "f", "v")),
                    "a dead letter after it");
            assertEquals(log, c.hgetAll(P + ":log"));
            assertEquals(Map.of("7-0", "2:1000"), TestInternals.heldMarks(c.hgetAll(P + ":held")));
            assertEquals(1L, c.xlen(P + ":dlq"));
            assertEquals(2, TestInternals.recentCompletions(c.lrange(P + ":recent", 0, -1)).size());
        }
    }

    @Test
    void aLogOpenedByAnEarlierVersionChecksTheLeaseKey(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.xadd(P, new StreamEntryID(5, 0), Map.of("k", "v"));
            c.set(P + ":lease", "me|7");
            String stamp = "me|7#" + open(c, "me|7").get(5);
            c.hdel(P + ":log", "o"); // as an earlier version's open left it
            c.set(P + ":lease", "next|8");
            assertEquals(-1L, commit(c, stamp, "5-0", 1, "ev-5"));
            c.set(P + ":lease", "me|7");
            assertEquals(1L, commit(c, stamp, "5-0", 1, "ev-5"));
        }
    }

    private static String text(Object o) {
        return o instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(o);
    }

    private static List<String> texts(Object list) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) list) {
            out.add(text(o));
        }
        return out;
    }
}
