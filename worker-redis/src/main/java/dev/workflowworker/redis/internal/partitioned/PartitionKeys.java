package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.time.TimeKeys;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The keys of a partition read as a log, beside those {@link RedisOptions} names: all under the
 * partition's hash tag, so each script touches one slot. See docs/ARCHITECTURE.md, "Ordered
 * processing".
 */
public final class PartitionKeys {

    private PartitionKeys() {
    }

    /** The committed position {@code c} and the count of entries up to it {@code n}, and {@code rn}, the ids in {@link #recent}. */
    public static String log(StreamKeys keys, int i) {
        return keys.partitionStream(i) + ":log";
    }

    /** Ids above the committed position that are settled (keys finish out of order), and {@link #PLACEHOLDER}. */
    public static String settled(StreamKeys keys, int i) {
        return keys.partitionStream(i) + ":settled";
    }

    /** Recent completions' event ids, one packed string per commit, capped: duplicate publishes are recognised by them. */
    static String recent(StreamKeys keys, int i) {
        return keys.partitionStream(i) + ":recent";
    }

    /**
     * The time of the partitions: slot {@code i} is partition {@code i}, its time keys under the
     * partition's hash tag, its mover the lease holder. See docs/ARCHITECTURE.md, "Time".
     */
    static TimeKeys time(StreamKeys keys, RedisOptions options) {
        return new TimeKeys(options.partitions(), keys::partitionStream, keys::partitionStream, keys::partitionLease,
                keys.scheduleHomes(), options.stream() + ":time-wake", true);
    }

    /**
     * The entries of each partition not yet settled: every entry ever added, less those up to the
     * committed position and those settled above it. One pipelined round trip. Reads of a log
     * leave no trace in Redis, so this is also the lag. A partition nothing was published to has
     * no stream yet: 0.
     */
    public static long[] unsettled(UnifiedJedis jedis, StreamKeys keys, int n) {
        List<Response<Object>> streams = new ArrayList<>(n);
        List<Response<String>> committed = new ArrayList<>(n);
        List<Response<Long>> settled = new ArrayList<>(n);
        List<Response<Boolean>> placeholders = new ArrayList<>(n);
        try (AbstractPipeline p = Topology.pipeline(jedis)) {
            for (int i = 0; i < n; i++) {
                streams.add(p.sendCommand(new CommandArguments(
                        Protocol.Command.XINFO).add("STREAM").key(keys.partitionStream(i))));
                committed.add(p.hget(log(keys, i), "n"));
                settled.add(p.scard(settled(keys, i)));
                placeholders.add(p.sismember(settled(keys, i), PLACEHOLDER));
            }
            p.sync();
        }
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long added;
            try {
                added = StreamEntries.number(StreamEntries.pairs((List<?>) streams.get(i).get()).get("entries-added"));
            } catch (JedisDataException e) {
                continue; // no stream yet: nothing published to the partition

            }
            String c = committed.get(i).get();
            long settledAbove = settled.get(i).get() - (placeholders.get(i).get() ? 1 : 0);
            out[i] = Math.max(0, added - (c == null ? 0 : Long.parseLong(c)) - settledAbove);
        }
        return out;
    }

    /**
     * The member of {@link #settled} and field of the held marks that every open puts there
     * (partition_open.lua), so that these keys exist while the partition's slot migrates: an id no
     * entry has. Counts of either leave it out.
     */
    public static final String PLACEHOLDER = "0-0";

    /** {@return the held marks in {@code heldKey}, less the placeholder: queued on {@code p}, read after its sync} */
    public static LongSupplier heldMarks(AbstractPipeline p, String heldKey) {
        Response<Long> n = p.hlen(heldKey);
        Response<Boolean> placeholder = p.hexists(heldKey, PLACEHOLDER);
        return () -> n.get() - (placeholder.get() ? 1 : 0);
    }

    /**
     * KEYS of partition_open.lua: only keys every open after the first finds present, so an open
     * during a migration of the partition's slot runs on whichever node holds them all.
     */
    static List<String> open(StreamKeys keys, int i) {
        return List.of(keys.partitionLease(i), log(keys, i), settled(keys, i), keys.partitionHeld(i),
                recent(keys, i), keys.partitionDeadLetters(i));
    }

    /**
     * KEYS of partition_open.lua for a partition whose log has no position (the open answered 0):
     * with the stream and the completed set of earlier versions, from which it gets one.
     */
    static List<String> openFromStart(StreamKeys keys, int i) {
        return List.of(keys.partitionLease(i), log(keys, i), settled(keys, i), keys.partitionHeld(i),
                recent(keys, i), keys.partitionDeadLetters(i), keys.partitionStream(i), keys.partitionCompleted(i));
    }

    /** KEYS of partition_dead_letter.lua. */
    static List<String> deadLetter(StreamKeys keys, int i) {
        return List.of(keys.partitionLease(i), settled(keys, i), keys.partitionHeld(i), keys.partitionDeadLetters(i),
                log(keys, i));
    }

    /** KEYS of partition_init.lua. */
    static List<String> init(StreamKeys keys, int i) {
        return List.of(keys.partitionStream(i), log(keys, i), settled(keys, i), recent(keys, i),
                keys.partitionCompleted(i));
    }

    /** KEYS of partition_hold.lua. */
    static List<String> hold(StreamKeys keys, int i) {
        return List.of(keys.partitionLease(i), keys.partitionHeld(i), log(keys, i), settled(keys, i));
    }

    /** KEYS of partition_trim.lua. */
    static List<String> trim(StreamKeys keys, int i) {
        return List.of(keys.partitionStream(i), log(keys, i), keys.partitionHeld(i));
    }

    /** KEYS of partition_commit.lua. */
    static List<String> commit(StreamKeys keys, int i) {
        return List.of(keys.partitionLease(i), log(keys, i), settled(keys, i), keys.partitionHeld(i),
                recent(keys, i));
    }
}
