package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.testsupport.SlotMigration;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 20 (J): a partition's commits, holds and dead letters while its slot migrates. Redis
 * answers a script TRYAGAIN, on the old node and on the importing one, while a key it names is
 * missing there, until the migration ends; these scripts named the settled set, the held marks,
 * the recent ids and the dead letters, each absent while empty, so every outcome of the partition
 * waited the migration out (about 1.2 s of rounds) and then failed as unknown: the partition
 * reopened, which waited too. Every open now leaves each of those keys present (partition_open.lua).
 * On the code before, the first commit below failed with TRYAGAIN. Here the slot is really put in
 * MIGRATING / IMPORTING and its keys moved with MIGRATE half way through, the migration left
 * unfinished while the outcomes run, through the same key lists and client calls as the engine.
 */
@SpawnedCluster(before = SpawnedCluster.Before.EMPTY)
class SlotMigrationOutcomesTest {

    private static SpawnedRedisCluster cluster;

    @Test
    void commitsHoldsAndDeadLettersLandOnEitherNodeWhileTheSlotMigrates() {
        RedisOptions options = cluster.options().stream("mig-out").partitions(1).build();
        try (StreamClient client = new StreamClient(options, new RedisConnector(options, null, "mig-test"),
                TimeSource.system())) {
            StreamKeys keys = client.keys();
            String stream = keys.partitionStream(0);
            client.redis().set(keys.partitionLease(0), "owner|7");
            for (int i = 1; i <= 6; i++) {
                client.redis().xadd(stream, XAddParams.xAddParams().id("1-" + i), Map.of("event_id", "ev" + i));
            }
            String stamp = "owner|7#" + ((List<?>) openFromStart(client, options)).get(5);
            String cap = Integer.toString(PartitionLog.RECENT_CAP);

            SlotMigration m = SlotMigration.start(cluster, JedisClusterCRC16.getSlot(stream));
            try {
                // every key still on the old node: the scripts run there
                assertEquals(1L, commit(client, List.of(stamp, "", "0", cap, "1|3:ev2", "1", "1-2", "0", "0")),
                        "a commit above the position, which settles its entry in the settled set");
                assertEquals(1L, client.evalOnNode(client.scripts().partitionHold, PartitionKeys.hold(keys, 0),
                        List.of(stamp, "1-3", "2:123"), 0, true), "a hold");
                assertEquals(1L, client.evalOnNode(client.scripts().partitionDeadLetter,
                        PartitionKeys.deadLetter(keys, 0), List.of(stamp, "1-4", "100", "error", "boom"), 0, true),
                        "a dead letter");

                // every key on the importing node, the slot still the old node's: ASK, then there
                m.moveKeys();
                try (Jedis from = m.from().jedis()) {
                    assertEquals(0L, from.clusterCountKeysInSlot(m.slot()), "the keys left the old node");
                }
                assertEquals(1L, commit(client, List.of(stamp, "1-2", "2", cap, "1|3:ev1", "0", "1", "1-2", "0")),
                        "the position moves over the first two");
                assertEquals(1L, commit(client,
                        List.of(stamp, "1-4", "4", cap, "2|3:ev33:ev6", "1", "1-6", "1", "1-4", "1", "1-3")),
                        "the held entry's commit moves it over the dead letter too, and settles the last above it");
                assertEquals(-1L, commit(client, List.of("owner|6#1", "1-6", "6", cap, "", "0", "0", "0")),
                        "a stale owner's commit is refused there");
                try (Jedis to = m.to().jedis()) {
                    to.asking();
                    assertEquals(1L, to.xlen(keys.partitionDeadLetters(0)), "the dead letter, once");
                }
            } finally {
                m.finish();
            }

            List<?> reopened = (List<?>) open(client, options);
            assertEquals("1-4", text(reopened.get(0)), "the position, after what was settled in order");
            assertEquals(4L, reopened.get(1));
            assertEquals(List.of("1-6"), texts(reopened.get(2)), "settled above it: the last, nothing else");
            assertEquals(List.of(), texts(reopened.get(3)), "no held mark left");
            assertEquals(List.of("0|", "1|3:ev2", "1|3:ev1", "2|3:ev33:ev6"), texts(reopened.get(4)),
                    "every completion's event id remembered once, in commit order");
            assertEquals(Set.of("0-0", "1-6"), client.redis().smembers(PartitionKeys.settled(keys, 0)));
        }
    }

    /**
     * A partition opened (handed over, or reopened after an unknown outcome) while its slot
     * migrates, on either node. The open named the completed set of earlier versions, absent here
     * as on nearly every stream, so it was answered TRYAGAIN until the migration ended and failed
     * after its rounds (about 1.2 s): the partition stopped for the whole migration. On the code
     * before, the first open below failed so. The open now names only keys every open leaves
     * present; a log with no position (lost while its stream lives on) is answered 0 and opened
     * again with the stream and the completed set, as the reader does.
     */
    @Test
    void aPartitionOpensOnEitherNodeWhileItsSlotMigrates() {
        RedisOptions options = cluster.options().stream("mig-open").partitions(1).build();
        try (StreamClient client = new StreamClient(options, new RedisConnector(options, null, "mig-open-test"),
                TimeSource.system())) {
            StreamKeys keys = client.keys();
            String stream = keys.partitionStream(0);
            client.redis().set(keys.partitionLease(0), "owner|7");
            client.redis().xadd(stream, XAddParams.xAddParams().id("1-1"), Map.of("event_id", "ev1"));
            assertEquals(0L, open(client, options), "no position yet: asked again with the stream");
            long first = (Long) ((List<?>) openFromStart(client, options)).get(5);

            SlotMigration m = SlotMigration.start(cluster, JedisClusterCRC16.getSlot(stream));
            try {
                assertEquals(first + 1, ((List<?>) open(client, options)).get(5), "opened on the old node");
                m.moveKeys();
                List<?> onImporting = (List<?>) open(client, options);
                assertEquals(first + 2, onImporting.get(5), "opened on the importing node");
                assertEquals("0-0", text(onImporting.get(0)), "the position");
            } finally {
                m.finish();
            }
        }
    }

    private static Object openFromStart(StreamClient client, RedisOptions options) {
        return client.evalOnNode(client.scripts().partitionOpen, PartitionKeys.openFromStart(client.keys(), 0),
                List.of("owner|7", options.group(), Integer.toString(PartitionLog.RECENT_CAP)), 0, false);
    }

    private static Object open(StreamClient client, RedisOptions options) {
        return client.evalOnNode(client.scripts().partitionOpen, PartitionKeys.open(client.keys(), 0),
                List.of("owner|7", options.group(), Integer.toString(PartitionLog.RECENT_CAP)), 0, false);
    }

    private static Object commit(StreamClient client, List<String> args) {
        return client.evalOnNode(client.scripts().partitionCommit, PartitionKeys.commit(client.keys(), 0), args,
                0, true);
    }

    private static String text(Object reply) {
        return reply instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(reply);
    }

    private static List<String> texts(Object reply) {
        return ((List<?>) reply).stream().map(SlotMigrationOutcomesTest::text).toList();
    }
}
