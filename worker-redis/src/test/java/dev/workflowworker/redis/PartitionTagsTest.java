package dev.workflowworker.redis;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A partitioned stream on a cluster gives every partition a hash tag of its own, built from the
 * stream's name. A name with a '}' ends that tag early, so every candidate tag hashes to one slot.
 */
class PartitionTagsTest {

    /** Builds, or is refused with a reason; either way at once. */
    @Test
    void aStreamNameWithBracesDoesNotHangTheBuild() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                RedisOptions.builder().uri("redis-cluster://127.0.0.1:7000").stream("{orders}").partitions(4).build();
            } catch (IllegalStateException | IllegalArgumentException refused) {
                // a clear refusal is fine
            }
        });
    }
}
