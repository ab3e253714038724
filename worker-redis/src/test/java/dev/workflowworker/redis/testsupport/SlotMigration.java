package dev.workflowworker.redis.testsupport;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.MigrateParams;

import java.util.List;

/**
 * One slot of a {@link SpawnedRedisCluster} half way from its master to another, as
 * {@code redis-cli --cluster reshard} leaves it between its steps: IMPORTING / MIGRATING set, its
 * keys moved on demand with MIGRATE, the migration ended only by {@link #finish}.
 */
public record SlotMigration(SpawnedRedisCluster cluster, int slot, SpawnedRedisServer from, SpawnedRedisServer to,
                            String fromId, String toId) {

    /** {@return the slot put in migration from its master to another master} */
    public static SlotMigration start(SpawnedRedisCluster cluster, int slot) {
        SpawnedRedisServer from = cluster.masterOfSlot(slot);
        SpawnedRedisServer to = cluster.masters().stream().filter(n -> n != from).findFirst().orElseThrow();
        try (Jedis src = from.jedis(); Jedis dst = to.jedis()) {
            SlotMigration m = new SlotMigration(cluster, slot, from, to, src.clusterMyId(), dst.clusterMyId());
            dst.clusterSetSlotImporting(slot, m.fromId);
            src.clusterSetSlotMigrating(slot, m.toId);
            return m;
        }
    }

    /** Moves every key of the slot still on the old node to the importing node. */
    public void moveKeys() {
        try (Jedis src = from.jedis()) {
            List<String> keys = src.clusterGetKeysInSlot(slot, 100);
            if (keys.isEmpty()) {
                return;
            }
            src.migrate("127.0.0.1", to.port(), 5000, new MigrateParams(), keys.toArray(String[]::new));
        }
    }

    /** Ends the migration on every master, so that the next test finds a stable cluster. */
    public void finish() {
        moveKeys();
        try (Jedis dst = to.jedis(); Jedis src = from.jedis()) {
            dst.clusterSetSlotNode(slot, toId);
            src.clusterSetSlotNode(slot, toId);
        }
        for (SpawnedRedisServer n : cluster.masters()) {
            if (n != from && n != to) {
                try (Jedis j = n.jedis()) {
                    j.clusterSetSlotNode(slot, toId);
                }
            }
        }
    }
}
