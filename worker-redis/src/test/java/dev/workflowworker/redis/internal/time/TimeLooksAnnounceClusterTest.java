package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisShardedPubSub;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a cluster a partition's reader waits on the partition's news channel, and the timers loop
 * announces there the delayed events its move appended. A move whose reply is lost (here: its
 * replica did not acknowledge it in time, so the pass failed, the events appended all the same)
 * was never announced: the next pass's move finds them moved already and answers 0, so the reader
 * found them only by its poll, up to a second later ({@code NodeWaits.SWEEP_MS}). The next answered
 * move of such a slot announces now.
 */
@SpawnedCluster(replicas = 1, before = SpawnedCluster.Before.EMPTY)
class TimeLooksAnnounceClusterTest {

    private static final String LEASE = "owner";
    private static SpawnedRedisCluster cluster;

    @Test
    void eventsMovedByAPassWhoseReplyFailedAreAnnouncedByTheNext() throws Exception {
        RedisOptions options = cluster.options().stream("looks-news").partitions(1)
                .waitForReplicas(1, Duration.ofMillis(200)).build();
        try (StreamClient client = new StreamClient(options, new RedisConnector(options, null, "looks-news-test"),
                TimeSource.system())) {
            StreamKeys k = client.keys();
            TimeKeys keys = new TimeKeys(1, k::partitionStream, k::partitionStream, k::partitionLease,
                    k.scheduleHomes(), options.stream() + ":time-wake", true);
            ScheduleStore store = new ScheduleStore(client, keys, s -> 0, e -> {
                throw new AssertionError("nothing is published here");
            });
            TimeLooks looks = new TimeLooks(client, keys,
                    new ScheduleFiring(client, keys, store, (p, now) -> (eventId, entryId) -> true));
            String stream = keys.stream(0);
            client.redis().set(keys.lease(0), LEASE);
            client.redis().zadd(keys.delayed(0), 1, "due-0");
            client.redis().hset(keys.delayedEntries(0), "due-0", "{\"n\":\"0\"}");
            SpawnedRedisServer master = cluster.masterOf(stream);
            SpawnedRedisServer replica = cluster.replicaOf(master);

            CountDownLatch subscribed = new CountDownLatch(1);
            CountDownLatch announced = new CountDownLatch(1);
            JedisShardedPubSub reader = new JedisShardedPubSub() {
                @Override
                public void onSSubscribe(String channel, int count) {
                    subscribed.countDown();
                }

                @Override
                public void onSMessage(String channel, String message) {
                    announced.countDown();
                }
            };
            try (Jedis sub = master.jedis()) {
                Thread t = new Thread(() -> reader.proceed(sub.getConnection(), StreamKeys.newsChannel(stream)),
                        "news-reader");
                t.setDaemon(true);
                t.start();
                assertTrue(subscribed.await(10, TimeUnit.SECONDS), "subscribed");

                TimeLooks.Pass first;
                replica.freeze();
                try {
                    first = looks.look(new int[]{0}, new String[]{LEASE}, 1, 200);
                } finally {
                    replica.thaw();
                }
                assertEquals(1, first.failures(), "the move's reply failed: " + first.failed());
                assertEquals(1, client.redis().xlen(stream), "the move ran all the same");
                assertEquals(1, announced.getCount(), "no wake yet: the reply that would have told is lost");

                Await.until(Duration.ofSeconds(10), () -> looks.look(new int[]{0}, new String[]{LEASE}, 1, 200)
                        .failures() == 0, "a pass answered once the replica is back");
                assertTrue(announced.await(5, TimeUnit.SECONDS),
                        "the moved event was never announced: the reader finds it only by its poll");
                reader.sunsubscribe();
            }
        }
    }
}
