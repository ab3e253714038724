package dev.workflowworker.redis;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.Tuple;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partitions moving to an instance that joins, on a real Redis: each partition given up is taken
 * within a quick round of its release, not at the taker's next regular round (a second with the
 * lease TTL used here), and each moves once (its fencing counter goes up by one), never back and
 * forth. See docs/ARCHITECTURE.md, "Ordered processing".
 */
@ExtendWith(RedisServerExtension.class)
class PartitionHandOverTest {

    private static final int PARTITIONS = 8;
    /** Far above what a quick round plus a loaded machine's scheduling takes, far below a regular round. */
    private static final long MAX_GAP_MILLIS = 250;

    private final List<WorkerService> services = new ArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private RedisEventTransport start(RedisOptions options) {
        RedisEventTransport t = RedisEventTransport.create(options);
        WorkerService s = WorkerService.builder().transport(t).runtime(ctx -> { }).workerCount(1).concurrencyLimit(4)
                .pollInterval(Duration.ofMillis(100)).build();
        services.add(s);
        s.start();
        return t;
    }

    private static long[] fences(RedisServer redis, RedisOptions options) {
        long[] out = new long[PARTITIONS];
        try (RedisClient c = redis.client()) {
            for (int i = 0; i < PARTITIONS; i++) {
                String v = c.get(options.partitionFence(i));
                out[i] = v == null ? 0 : Long.parseLong(v);
            }
        }
        return out;
    }

    /** Not a wait for an outcome: a pause of a chosen length (placing a join, pacing an observation). */
    private static void placeInRound(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void aJoiningInstanceTakesEachGivenUpPartitionWithinAQuickRoundAndEachMovesOnce(RedisServer redis) {
        // A 30 s lease: regular rounds every second, and no lease runs out during the test.
        RedisOptions options = redis.options().partitions(PARTITIONS).partitionLeaseTtl(Duration.ofSeconds(30)).build();
        RedisEventTransport a = start(options);
        Await.until(Duration.ofSeconds(5), () -> a.ownedPartitions().size() == PARTITIONS, () -> "a owns " + a.ownedPartitions());
        List<Long> gaps = new ArrayList<>();
        // Five joins, each started a fifth of a regular round later after a's round than the one before:
        // a's next round gives the partitions up, and the joiner's next regular round would come that
        // much after it (0, 200, ... 800 ms), so waiting for it exceeds the bound in three of the five.
        for (int join = 0; join < 5; join++) {
            placeInRound(join * 200L);
            long[] before = fences(redis, options);
            RedisEventTransport b = start(options);
            Await.until(Duration.ofSeconds(5), () -> a.ownedPartitions().size() == PARTITIONS / 2,
                    () -> "a owns " + a.ownedPartitions() + ", b " + b.ownedPartitions());
            long released = System.nanoTime();
            Await.until(Duration.ofSeconds(5), () -> b.ownedPartitions().size() == PARTITIONS / 2,
                    () -> "a owns " + a.ownedPartitions() + ", b " + b.ownedPartitions());
            gaps.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released));
            long[] after = fences(redis, options);
            int moved = 0;
            for (int i = 0; i < PARTITIONS; i++) {
                long d = after[i] - before[i];
                assertTrue(d == 0 || d == 1, "partition " + i + " was taken " + d + " times in one join");
                moved += (int) d;
            }
            assertEquals(PARTITIONS / 2, moved, "partitions moved in join " + join);
            List<Integer> both = new ArrayList<>(a.ownedPartitions());
            both.addAll(b.ownedPartitions());
            both.sort(Integer::compare);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), both, "one owner per partition after join " + join);
            WorkerService leaving = services.remove(services.size() - 1);
            leaving.close();
            Await.until(Duration.ofSeconds(5), () -> a.ownedPartitions().size() == PARTITIONS,
                    () -> "after b left, a owns " + a.ownedPartitions());
        }
        long worst = gaps.stream().mapToLong(Long::longValue).max().orElseThrow();
        System.out.println("hand-over gaps (ms): " + gaps);
        assertTrue(worst < MAX_GAP_MILLIS, "partitions given up waited " + gaps + " ms for their new owner");
    }

    @Test
    void quickRoundsEndTwoRegularIntervalsAfterTheMembersChangedWhenTheShareCannotBeReached(RedisServer redis) {
        RedisOptions options = redis.options().partitions(4).partitionLeaseTtl(Duration.ofSeconds(30)).build();
        // Another live instance holds every partition and never gives one up: this one stays below its share.
        try (RedisClient c = redis.client()) {
            c.zadd(options.membersKey(), System.currentTimeMillis() + 600_000, "ghost");
            for (int i = 0; i < 4; i++) {
                c.set(options.partitionLease(i), "ghost|99", SetParams.setParams().px(600_000));
            }
        }
        start(options);
        // Each round writes this instance's heartbeat (ZADD of its member, scored by the send time):
        // observing the score for a bounded 4 s gives the time of every round.
        List<Long> rounds = new ArrayList<>();
        try (RedisClient c = redis.client()) {
            Double last = null;
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4)) {
                for (Tuple t : c.zrangeWithScores(options.membersKey(), 0, -1)) {
                    if (!t.getElement().equals("ghost") && !Double.valueOf(t.getScore()).equals(last)) {
                        last = t.getScore();
                        rounds.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                    }
                }
                placeInRound(2);
            }
        }
        assertTrue(rounds.size() >= 2, "rounds seen at (ms) " + rounds);
        long first = rounds.get(0);
        long quick = rounds.stream().filter(t -> t - first < 1500).count();
        long late = rounds.stream().filter(t -> t - first >= 2500).count();
        // Below its share, it runs quick rounds at first (about 60 in 1.5 s; regular rounds would be 2)...
        assertTrue(quick >= 20, "rounds in the first 1.5 s: " + quick + " at (ms) " + rounds);
        // ...and regular ones once two regular intervals passed (about 1 to 2 in the last 1.5 s, not 60).
        assertTrue(late <= 3, "rounds after 2.5 s: " + late + " at (ms) " + rounds);
    }
}
