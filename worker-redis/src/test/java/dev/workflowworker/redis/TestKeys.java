package dev.workflowworker.redis;

/**
 * The key names of a stream as the library computes them, for test harnesses outside this
 * package (the chaos run) that inspect Redis directly: on a cluster they differ from one server's.
 */
public final class TestKeys {

    private TestKeys() {
    }

    /** @return the stream key of partition {@code i} under these options */
    public static String partitionStream(RedisOptions options, int i) {
        return options.partitionStream(i);
    }

    /** @return the processed-marker key of an event under these options */
    public static String processedKey(RedisOptions options, String eventId) {
        return options.processedKey(eventId);
    }
}
