package dev.workflowworker.examples;

import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class ProduceTest {

    record Result(int code, String out, String err) {
    }

    private static Result produce(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Produce.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void publishesExactlyCountEventsPacedByRate(RedisServer redis) {
        long t0 = System.nanoTime();
        Result r = produce(Map.of("REDIS_URL", redis.uri()), "--rate", "400", "--count", "300");
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.code(), r.out() + r.err());
        // The default mode: the events are in the partitions, which the admin sums.
        try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().build())) {
            assertEquals(300, admin.stats().length());
            assertEquals(16, admin.partitions());
        }
        Matcher m = Pattern.compile("published 300 events in (\\d+[.,]\\d+) s \\((\\d+[.,]\\d) events/s, target 400/s\\)")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        // the last event is due 299/400 s after the first: the schedule held it back
        assertTrue(elapsedMs >= 700, "finished in " + elapsedMs + " ms:\n" + r.out());
        assertTrue(Double.parseDouble(m.group(2).replace(',', '.')) <= 420, r.out());
    }

    @Test
    void publishesToWorkerStreamEventsServeKnows(RedisServer redis) {
        // The shared stream: every event is an entry of the stream itself.
        Result r = produce(Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "produce:stream", "WORKER_PARTITIONS", "0"),
                "--count", "20", "--rate", "1000");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("stream produce:stream"), r.out());
        try (RedisClient client = redis.client()) {
            assertEquals(20, client.xlen("produce:stream"));
        }
        for (int i = 0; i < 30; i++) {
            String type = Produce.event(i).eventType();
            assertTrue(ServiceMode.demoRuntime().eventTypes().contains(type), type);
        }
    }

    @Test
    void badFlagsAreUsageErrorsNamingTheFlag(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        assertUsage(produce(env, "--rate", "0"), "--rate must be a positive integer, got '0'");
        assertUsage(produce(env, "--rate", "fast"), "--rate must be a positive integer, got 'fast'");
        assertUsage(produce(env, "--count", "-5"), "--count must be a positive integer, got '-5'");
        assertUsage(produce(env, "--count"), "--count needs a value");
        assertUsage(produce(env, "--speed", "10"), "unexpected argument '--speed'");
        try (RedisClient client = redis.client()) {
            assertEquals(0, client.exists("workflow:events:global") ? client.xlen("workflow:events:global") : 0);
        }
    }

    @Test
    void failsClearlyWithoutRedisUrl() {
        assertUsage(produce(Map.of(), "--count", "5"), "REDIS_URL is not set");
    }

    private static void assertUsage(Result r, String message) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("produce: " + message), r.err());
        assertTrue(r.err().contains("usage: java -jar workflow-worker-examples.jar produce"), r.err());
    }
}
