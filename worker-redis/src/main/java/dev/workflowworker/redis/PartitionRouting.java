package dev.workflowworker.redis;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Which partition an event goes to: {@code crc32(utf8(lockKey)) mod partitions}, with the CRC-32
 * of zlib, Java's {@code java.util.zip.CRC32}, Python's {@code zlib.crc32} and Node's
 * {@code zlib.crc32}, taken as an unsigned 32-bit number. The lock key is the event's
 * {@code execution_id}, else its {@code event_id}. A producer in another language that writes
 * straight to the partitions must route the same way; docs/ARCHITECTURE.md lists test vectors.
 */
public final class PartitionRouting {

    private PartitionRouting() {
    }

    /**
     * Routes a lock key to its partition.
     *
     * @param lockKey    the event's lock key
     * @param partitions the stream's partition count, at least 1
     * @return the partition, from 0 to {@code partitions - 1}
     * @throws IllegalArgumentException if {@code partitions} is below 1
     */
    public static int partitionOf(String lockKey, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1: " + partitions);
        }
        CRC32 crc = new CRC32();
        crc.update(lockKey.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions);
    }
}
