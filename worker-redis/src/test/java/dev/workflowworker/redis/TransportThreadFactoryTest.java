package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every thread a transport starts comes from the host's thread factory when the host gives one. */
@ExtendWith(RedisServerExtension.class)
class TransportThreadFactoryTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 4})
    void everyThreadOfTheTransportComesFromTheHostsFactory(int partitions, RedisServer redis) throws Exception {
        String stream = "host-threads-" + partitions;
        Set<Thread> made = ConcurrentHashMap.newKeySet();
        ThreadFactory host = r -> {
            Thread t = new Thread(r);
            made.add(t);
            return t;
        };
        RedisOptions options = redis.options().stream(stream).partitions(partitions).build();
        try (RedisEventTransport transport = RedisEventTransport.create(options, TimeSource.system(), host);
             EventTransport.Consumer consumer = transport.openConsumer("c1")) {
            transport.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1").build());
            List<Delivery> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                got.addAll(consumer.read(1, Duration.ofMillis(200)));
            }
            assertEquals(1, got.size(), "the event was read");

            List<Thread> mine = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("workflow-worker-") && t.getName().endsWith("-" + stream))
                    .toList();
            assertFalse(mine.isEmpty(), "the transport started threads of its own");
            for (Thread t : mine) {
                assertTrue(made.contains(t), t.getName() + " did not come from the host's factory");
                assertTrue(t.isDaemon(), t.getName() + " is no daemon");
            }
        }
    }
}
