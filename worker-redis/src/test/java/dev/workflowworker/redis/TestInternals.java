package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;
import dev.workflowworker.redis.internal.partitioned.PartitionedStream;
import dev.workflowworker.redis.internal.partitioned.Partitions;
import dev.workflowworker.redis.internal.shared.SharedStream;

import java.util.List;
import java.util.Map;

/** The transport's internal parts, as tests of this package reach them. */
final class TestInternals {

    private TestInternals() {
    }

    static Partitions partitions(RedisEventTransport t) {
        return field(field(t, "mode", PartitionedStream.class), "partitions", Partitions.class);
    }

    static SharedStream shared(RedisEventTransport t) {
        return field(t, "mode", SharedStream.class);
    }

    /**
     * {@return the value of {@code owner}'s private field {@code name}}: read by reflection, so the
     * production classes carry no accessor that only tests call.
     */
    private static <T> T field(Object owner, String name, Class<T> type) {
        try {
            java.lang.reflect.Field f = owner.getClass().getDeclaredField(name);
            f.setAccessible(true);
            return type.cast(f.get(owner));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no field " + name + " in " + owner.getClass().getName(), e);
        }
    }

    static StreamKeys keys(RedisOptions options) {
        return StreamKeys.of(options);
    }

    /** {@return the held marks of a partition without the placeholder every open puts there (PartitionKeys.PLACEHOLDER)} */
    static Map<String, String> heldMarks(Map<String, String> held) {
        Map<String, String> out = new java.util.HashMap<>(held);
        out.remove(PartitionKeys.PLACEHOLDER);
        return out;
    }

    /** {@return a partition's recent completions without the placeholder every open puts there} */
    static List<String> recentCompletions(List<String> recent) {
        return recent.stream().filter(r -> !r.equals("0|")).toList();
    }
}
