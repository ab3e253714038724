package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code partition_commit.lua} on its own, against a model: the recent window keeps the newest
 * commits' event ids up to its cap with {@code rn} counting them, ids go to the settled set only
 * above the position (in batches larger than one call takes), and a stale lease writes nothing.
 */
@ExtendWith(RedisServerExtension.class)
class CommitScriptTest {

    private static final String LEASE = "{c#0}:lease";
    private static final String LOG = "{c#0}:log";
    private static final String SETTLED = "{c#0}:settled";
    private static final String HELD = "{c#0}:held";
    private static final String RECENT = "{c#0}:recent";
    private static final List<String> KEYS = List.of(LEASE, LOG, SETTLED, HELD, RECENT);

    /** The commit's packing of event ids: their count, '|', then each as its UTF-8 length, ':' and the id. */
    private static String pack(List<String> ids) {
        StringBuilder b = new StringBuilder();
        for (String id : ids) {
            b.append(id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append(':').append(id);
        }
        return ids.isEmpty() ? "" : ids.size() + "|" + b;
    }

    private static Object commit(RedisClient c, String lease, String position, long count, int cap, List<String> eventIds,
                                 List<String> settle, List<String> unsettle, List<String> held) {
        List<String> args = new ArrayList<>(List.of(lease, position, Long.toString(count), Integer.toString(cap),
                pack(eventIds)));
        for (List<String> ids : List.of(settle, unsettle, held)) {
            args.add(Integer.toString(ids.size()));
            args.addAll(ids);
        }
        return c.eval(TimeScriptsTest.script("partition_commit.lua"), KEYS, args);
    }

    @Test
    void theRecentWindowKeepsTheNewestCommitsUpToItsCapAndCountsTheirIds(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "me|1");
            java.util.Random random = new java.util.Random(11);
            // 4,096: an excess of 256 ids in commits of one to four is read in several steps
            for (int cap : new int[] {5, 64, 4096}) {
                c.del(RECENT, LOG);
                Deque<List<String>> model = new ArrayDeque<>();
                int total = 0;
                int next = 0;
                for (int step = 0; step < (cap > 64 ? 4000 : 300); step++) {
                    // now and then one commit larger than the whole window
                    int size = step % 97 == 50 ? cap + 3 : 1 + random.nextInt(4);
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        ids.add("e" + next++);
                    }
                    assertEquals(1L, commit(c, "me|1", "", 0, cap, ids, List.of(), List.of(), List.of()));
                    model.addLast(ids);
                    total += size;
                    // past the cap by a sixteenth, the oldest commits go while the rest still reach the cap
                    if (total > cap + cap / 16) {
                        while (total - model.getFirst().size() >= cap) {
                            total -= model.removeFirst().size();
                        }
                    }
                    List<String> expected = new ArrayList<>();
                    for (List<String> m : model) {
                        expected.add(pack(m));
                    }
                    assertEquals(expected, c.lrange(RECENT, 0, -1), "cap " + cap + ", step " + step);
                    assertEquals(Integer.toString(total), c.hget(LOG, "rn"), "cap " + cap + ", step " + step);
                    assertTrue(total >= Math.min(cap, next), "the window holds at least the cap: " + total);
                    assertTrue(total <= cap + cap / 16 || total - model.getFirst().size() < cap,
                            "the window holds no commit it could give up: " + total);
                }
            }
        }
    }

    @Test
    void aCountThatOverstatesTheWindowStartsItAgainWithTheCommitsOwnIds(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "me|1");
            c.del(RECENT, LOG);
            c.rpush(RECENT, pack(List.of("old1", "old2")));
            c.hset(LOG, "rn", "1000"); // written by something else: the list holds 2
            assertEquals(1L, commit(c, "me|1", "", 0, 64, List.of("new1", "new2", "new3"), List.of(), List.of(),
                    List.of()));
            assertEquals(List.of(pack(List.of("new1", "new2", "new3"))), c.lrange(RECENT, 0, -1),
                    "the commit's own ids stay in the window");
            assertEquals("3", c.hget(LOG, "rn"));
        }
    }

    @Test
    void aCountOverstatingTheWindowByExactlyItsCapStillKeepsTheCommitsOwnIds(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "me|1");
            c.del(RECENT, LOG);
            c.rpush(RECENT, pack(List.of("a", "b")));
            // The list holds 2 ids, rn says 6: with this commit's one id the count cut every
            // element, this commit's too, and came out at the cap exactly. The list emptied (Redis
            // deleted the key), which a slot migration then answers TRYAGAIN until the next open.
            c.hset(LOG, "rn", "6");
            assertEquals(1L, commit(c, "me|1", "", 0, 4, List.of("c"), List.of(), List.of(), List.of()));
            assertEquals(List.of(pack(List.of("c"))), c.lrange(RECENT, 0, -1), "the commit's own ids stay");
            assertEquals("1", c.hget(LOG, "rn"));
        }
    }

    @Test
    void idsGoToTheSettledSetOnlyAboveThePositionAndAnyNumberOfThem(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "me|1");
            List<String> above = new ArrayList<>();
            for (int i = 0; i < 9_000; i++) {
                above.add("10-" + i);
            }
            List<String> settle = new ArrayList<>(above);
            settle.add("3-0");
            commit(c, "me|1", "5-0", 5, 100, List.of("a"), settle, List.of(), List.of());
            assertEquals(Map.of("c", "5-0", "n", "5", "rn", "1"), c.hgetAll(LOG));
            assertEquals(Set.copyOf(above), c.smembers(SETTLED), "every id above 5-0, none below");

            // a commit landing late with an older position keeps the newer one
            c.hset(HELD, Map.of("10-1", "2:0", "10-2", "2:0"));
            commit(c, "me|1", "4-0", 4, 100, List.of(), List.of(), above.subList(0, 8_500), List.of("10-1"));
            assertEquals("5-0", c.hget(LOG, "c"));
            assertEquals(Set.copyOf(above.subList(8_500, 9_000)), c.smembers(SETTLED));
            assertEquals(Map.of("10-2", "2:0"), c.hgetAll(HELD));
        }
    }

    @Test
    void aCommitUnderAStaleLeaseWritesNothing(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "next-owner|2");
            assertEquals(-1L, commit(c, "me|1", "5-0", 5, 100, List.of("a"), List.of("7-0"), List.of(), List.of()));
            assertEquals(Set.of(LEASE), c.keys("{c#0}*"));
        }
    }
}
