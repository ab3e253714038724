package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.time.ScheduleFiring;
import dev.workflowworker.redis.internal.time.ScheduleStore;
import dev.workflowworker.redis.internal.time.TimeKeys;
import dev.workflowworker.redis.internal.time.TimeLoop;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timers loop's once-a-second look at every held partition: it went one partition after the
 * other, a move and a read of the earliest schedule each, two round trips per partition (32 a
 * second for 16 partitions, most of what an idle process sent). A look pass is one pipeline now.
 * And the pass still moves what is due in each partition, from one look.
 */
class TimeLoopPassTest {

    private static final int PARTITIONS = 16;

    @Test
    void aLookAtEveryHeldPartitionIsOneRoundTrip() throws Exception {
        SpawnedRedisServer server = SpawnedRedisServer.builder().start();
        StreamClient client = null;
        TimeLoop<String> loop = null;
        try {
            RedisOptions options = server.options().stream("timers-pass").partitions(PARTITIONS).build();
            client = new StreamClient(options, new RedisConnector(options, null, "timers-pass-test"),
                    TimeSource.system());
            TimeKeys time = PartitionKeys.time(client.keys(), options);
            AtomicInteger looks = new AtomicInteger();
            try (Jedis j = server.jedis()) {
                for (int i = 0; i < PARTITIONS; i++) {
                    j.set(time.lease(i), "me|1");
                    // One event due already in every partition: the first pass moves each.
                    j.zadd(time.delayed(i), 1, "due-" + i);
                    j.hset(time.delayedEntries(i), "due-" + i, "{\"n\":\"" + i + "\"}");
                }
            }
            ScheduleStore schedules = new ScheduleStore(client, time, s -> 0, e -> {
                throw new AssertionError("nothing is published here");
            });
            loop = new TimeLoop<>(new TimeLoop.Slots<>() {
                @Override
                public String held(int i) {
                    looks.incrementAndGet();
                    return "me|1";
                }

                @Override
                public String leaseValue(String l) {
                    return l;
                }
            }, client, time, new ScheduleFiring(client, time, schedules, new PartitionEnds(client)));
            loop.start();
            try (Jedis j = server.jedis()) {
                Await.until(Duration.ofSeconds(10), () -> {
                    for (int i = 0; i < PARTITIONS; i++) {
                        if (j.xlen(time.stream(i)) != 1) {
                            return false;
                        }
                    }
                    return true;
                }, "every partition's due event moved");
                // Two sweeps of every partition (one a second) from here, counted by the server's socket reads.
                long reads0 = reads(j);
                int rounds0 = looks.get();
                Await.until(Duration.ofSeconds(10), () -> looks.get() - rounds0 >= 2 * PARTITIONS + 1,
                        "two sweeps");
                long reads = reads(j) - reads0 - 1; // this connection's own INFO
                System.out.println("TimeLoopPassTest: " + reads + " socket reads in two sweeps of " + PARTITIONS
                        + " partitions");
                // Two passes and the subscription's PINGs (one a second), with room for a wake's extra pass.
                assertTrue(reads <= 8, reads + " socket reads in two sweeps of " + PARTITIONS + " partitions");
                for (int i = 0; i < PARTITIONS; i++) {
                    assertEquals(0, j.zcard(time.delayed(i)), "partition " + i + "'s delayed set");
                }
            }
        } finally {
            if (loop != null) {
                loop.close();
            }
            if (client != null) {
                client.close();
            }
            server.close();
        }
    }

    private static long reads(Jedis j) {
        for (String line : j.info("stats").split("\r?\n")) {
            if (line.startsWith("total_reads_processed:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new AssertionError("no total_reads_processed");
    }
}
