package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;

/**
 * Review (review-jnode): as ClusterNodeOutageLeaseTest, but the master hangs (SIGSTOP) instead of
 * dying. The reader leaves the hung node out (NodeHealth), but the ownership round does not: every
 * round waits a socket timeout for the hung node's calls before it handles the live nodes'
 * renewals, and the next round starts a tick after that. With 2 × socket timeout + tick past
 * 0.9 × TTL (here 2 × 800 + 400 ms against 1,800 ms) the live masters' leases run out locally; and
 * since a round that reached every node but one throws before taking partitions, nothing takes
 * them again until the hung master answers.
 */
class ClusterHungNodeLeaseTest extends ClusterFaultCase {

    @Test
    void liveMastersPartitionsKeepTheirLeasesWhileAnotherHangs() {
        RedisOptions options = cluster.options().stream("cluster:hung").partitions(6)
                .partitionLeaseTtl(Duration.ofSeconds(2)).socketTimeout(Duration.ofMillis(800)).build();
        SpawnedRedisServer victim = victim(options);
        liveMastersKeepTheirLeases(options, victim::freeze, victim::thaw, "hang");
    }
}
