package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Where the transport's keys land on a Redis Cluster: the shared stream's keys in its slot, each
 * partition in a slot of its own. See docs/ARCHITECTURE.md, "Redis Cluster".
 */
public final class ClusterSlots {

    private ClusterSlots() {
    }

    /**
     * Checks options for a Redis Cluster.
     *
     * @throws IllegalStateException naming the setting that does not fit a cluster
     */
    public static void check(int database, String stream, String deadLetterStream, String retryKey, String keyPrefix,
                      int partitions) {
        if (database != 0) {
            throw new IllegalStateException("database (" + database + ") must be 0 on a Redis Cluster, "
                    + "which has no other database");
        }
        // The shared stream's scripts touch the stream, its dead letters, retries, locks and
        // markers at once; on a cluster they run only if all of them live in one slot.
        requireSlot("deadLetterStream", deadLetterStream, stream);
        requireSlot("retryKey", retryKey, stream);
        requireSlot("keyPrefix", keyPrefix + "lock:x", stream);
        requireSlot("keyPrefix", keyPrefix + "processed:y", stream);
        if (partitions > 0 && stream.indexOf('}') >= 0) {
            // Each partition's key is a hash tag made from the stream's name; a '}' in it
            // would end every such tag early, putting all partitions (and the router's
            // lease, away from the stream) in slots the design does not expect.
            throw new IllegalStateException("stream (" + stream + ") must not contain '}' when partitioned "
                    + "on a Redis Cluster: each partition gets a hash tag of its own made from the stream's name");
        }
    }

    private static void requireSlot(String name, String key, String stream) {
        if (JedisClusterCRC16.getSlot(key) != JedisClusterCRC16.getSlot(stream)) {
            throw new IllegalStateException(name + " (" + key + ") must hash to the slot of stream " + stream
                    + " on a Redis Cluster: give it the stream's hash tag, e.g. {" + hashTag(stream) + "}");
        }
    }

    /** {@return the part of the stream's name Redis Cluster hashes: its hash tag, else all of it} */
    public static String hashTag(String stream) {
        int open = stream.indexOf('{');
        if (open >= 0) {
            int close = stream.indexOf('}', open + 1);
            if (close > open + 1) {
                return stream.substring(open + 1, close);
            }
        }
        return stream;
    }

    /**
     * The hash tags of a partitioned stream on a cluster. A tag of {@code stream#i} puts partition
     * i in whatever slot CRC16 gives, and few partitions then crowd onto some masters (16 over
     * three came out 4/4/8). Instead partition i's tag is the first of {@code stream#i},
     * {@code stream#i~1}, {@code stream#i~2}, ... whose slot lies within a quarter of a range's
     * width of the middle of the i-th of P equal slot ranges, so partitions follow the slot
     * ranges the cluster assigns to its masters. See docs/ARCHITECTURE.md, "Redis Cluster".
     */
    static String[] balancedTags(String stream, int p) {
        String[] tags = new String[p];
        for (int i = 0; i < p; i++) {
            int half = Math.max(1, 16384 / (4 * p));
            int middle = (int) ((2L * i + 1) * 16384 / (2L * p));
            String base = stream + "#" + i;
            String tag = base;
            for (int k = 1; Math.abs(JedisClusterCRC16.getSlot("{" + tag + "}") - middle) >= half; k++) {
                tag = base + "~" + k;
            }
            tags[i] = tag;
        }
        return tags;
    }
}
