package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.time.ScheduleFiring;
import dev.workflowworker.redis.internal.time.ScheduleStore;
import dev.workflowworker.redis.internal.time.TimeKeys;
import dev.workflowworker.redis.internal.time.TimeLoop;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import dev.workflowworker.redis.testsupport.Stacks;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timers loop's close while its call to a hung (SIGSTOPped) server is in flight: it waited
 * for the call to end, up to two seconds per thread, which is up to a socket timeout. Nothing of
 * close needs that call ended (every move and firing is fenced by the lease in its script), so
 * close now waits a bounded moment and the thread ends with its call.
 */
class TimeLoopHungCloseTest {

    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(3);

    @Test
    void closeDoesNotWaitForACallToAHungServer() {
        SpawnedRedisServer server = SpawnedRedisServer.builder().start();
        StreamClient client = null;
        try {
            RedisOptions options = server.options().stream("timers-hung").partitions(1)
                    .socketTimeout(SOCKET_TIMEOUT).build();
            client = new StreamClient(options, new RedisConnector(options, null, "timers-hung-test"),
                    TimeSource.system());
            StreamClient c = client;
            TimeKeys time = PartitionKeys.time(client.keys(), options);
            ScheduleStore schedules = new ScheduleStore(client, time, s -> 0, e -> {
                throw new AssertionError("nothing fires here");
            });
            TimeLoop<String> loop = new TimeLoop<>(new TimeLoop.Slots<>() {
                @Override
                public String held(int i) {
                    return "someone|1";
                }

                @Override
                public String leaseValue(String l) {
                    return l;
                }
            }, client, time, new ScheduleFiring(client, time, schedules, new PartitionEnds(c)));
            // Warm the pool: the loop's call then waits on a connected socket, as after a hang.
            client.redis().ping();
            server.freeze();
            // A new slot is looked at at once: the loop's first round calls the frozen server.
            loop.start();
            Await.until(Duration.ofSeconds(5), () -> Stacks.inACall("timers-" + options.stream(), "look"),
                    "the timers loop in its call");

            long t0 = System.nanoTime();
            loop.close();
            long ms = (System.nanoTime() - t0) / 1_000_000;

            System.out.println("TimeLoopHungCloseTest: close with a call to a hung server in flight took " + ms + " ms");
            assertTrue(ms < SOCKET_TIMEOUT.toMillis() / 3, "close took " + ms + " ms (socket timeout "
                    + SOCKET_TIMEOUT.toMillis() + " ms)");
        } finally {
            server.thaw();
            if (client != null) {
                client.close();
            }
            server.close();
        }
    }

}
