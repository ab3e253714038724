package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisOptions;

/**
 * The names of a stream's keys in Redis, derived from the options once. Every key of partition
 * {@code i} carries the partition's stream key as its hash tag, so a partition lives in one
 * Redis Cluster slot, and the partitions spread over the slots.
 */
public final class StreamKeys {

    private final String stream;
    private final String group;
    private final String keyPrefix;
    private final boolean cluster;
    /**
     * On a cluster, the hash tag of each partition, chosen to spread them evenly over the slots
     * (none for one shared stream); null on one server.
     */
    private final String[] partitionTags;

    private StreamKeys(String stream, String group, String keyPrefix, String[] partitionTags, boolean cluster) {
        this.stream = stream;
        this.cluster = cluster;
        this.group = group;
        this.keyPrefix = keyPrefix;
        this.partitionTags = partitionTags;
    }

    public static StreamKeys of(RedisOptions options) {
        return new StreamKeys(options.stream(), options.group(), options.keyPrefix(),
                options.cluster() ? ClusterSlots.balancedTags(options.stream(), options.partitions()) : null,
                options.cluster());
    }

    /**
     * {@return the keys of this stream laid out in {@code partitions} partitions}: on a cluster the
     * partitions' hash tags depend on their count, so a reader of a count recorded in Redis (an
     * admin whose options leave it unset) names the partitions by that count, not the options'.
     */
    public StreamKeys forPartitions(int partitions) {
        if (partitionTags == null || partitionTags.length == partitions) {
            return this;
        }
        return new StreamKeys(stream, group, keyPrefix, ClusterSlots.balancedTags(stream, partitions), cluster);
    }

    /**
     * {@return the stream key of partition {@code i}}: the whole key is its hash tag, so every key
     * of the partition lives in one Redis Cluster slot, and partitions spread over the slots.
     */
    public String partitionStream(int i) { return "{" + (partitionTags != null ? partitionTags[i] : stream + "#" + i) + "}"; }
    /** @return the lease key of partition {@code i}: "owner|token" of its current owner */
    public String partitionLease(int i) { return partitionStream(i) + ":lease"; }
    /** @return the counter the lease tokens of partition {@code i} are drawn from */
    public String partitionFence(int i) { return partitionStream(i) + ":fence"; }
    /** @return the hash of partition {@code i}'s entries a retry holds: id to "attempt:dueMillis" */
    public String partitionHeld(int i) { return partitionStream(i) + ":held"; }
    /**
     * @return the sorted set of partition {@code i}'s completed event ids, scored by completion
     *     time and kept for the processed TTL: the partitioned form of processed markers
     */
    public String partitionCompleted(int i) { return partitionStream(i) + ":completed"; }
    /** @return the dead-letter stream of partition {@code i} */
    public String partitionDeadLetters(int i) { return partitionStream(i) + ":dlq"; }
    /**
     * @return the shard channel that announces new entries of partition stream {@code stream}
     *     on a cluster: it carries the stream's hash tag, so it lives on the stream's node
     */
    public static String newsChannel(String stream) { return stream + ":news"; }
    /** @return the last source-stream id routed into partition {@code i} */
    public String partitionRouted(int i) { return partitionStream(i) + ":routed"; }
    /**
     * @return the router's lease: its hash tag is the stream's whole name, so it shares the slot
     *     of the single stream it reads
     */
    public String routerLease() { return "{" + stream + "}:router"; }
    /** @return which partition each schedule lives in: in the router's slot, one key for all partitions */
    public String scheduleHomes() { return "{" + stream + "}:sched:home"; }
    /** @return the counter the router's lease tokens are drawn from */
    public String routerFence() { return "{" + stream + "}:router-fence"; }
    /** @return the group the router reads the single stream with */
    public String routerGroup() { return group + "-router"; }
    /** @return where the stream's partition count is recorded */
    public String partitionCountKey() { return stream + ":partitions"; }
    /** @return the sorted set of live instances sharing the partitions, scored by heartbeat expiry */
    public String membersKey() { return stream + ":members"; }
    /**
     * {@return the prefix of the shared stream's time keys (delayed events, schedules)}: the
     * stream's name, as its dead letters and retries have on one server; on a cluster a name
     * without a hash tag becomes the tag, so every time key lives in the stream's slot and its
     * scripts touch one slot. Null for a name with a '}' and no tag on a cluster: no key but the
     * stream itself hashes like it, so that stream keeps no time.
     */
    public String sharedTime() {
        if (!cluster || !ClusterSlots.hashTag(stream).equals(stream)) {
            return stream;
        }
        return stream.indexOf('}') >= 0 ? null : "{" + stream + "}";
    }
    /**
     * @return the marker of a dead-lettered schedule occurrence on the shared stream, kept as long
     *     as a processed marker: it tells the overlap policy the occurrence finished, where a
     *     processed marker would make a replay of the dead letter a duplicate
     */
    public String deadMarkerKey(String eventId) { return keyPrefix + "dead:" + eventId; }
    /** @return the processed-marker key of an event */
    public String processedKey(String eventId) { return keyPrefix + "processed:" + eventId; }
    /** @return the lock key of a lock key */
    public String lockKey(String key) { return keyPrefix + "lock:" + key; }
    /** @return the fencing counter of a lock key */
    public String fenceKey() { return keyPrefix + "fence"; }
}
