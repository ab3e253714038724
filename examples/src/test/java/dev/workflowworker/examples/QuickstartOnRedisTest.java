package dev.workflowworker.examples;

import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quickstart with REDIS_URL: runs on Redis and leaves its stream and dead letters for {@code admin}. */
@ExtendWith(RedisServerExtension.class)
class QuickstartOnRedisTest {

    private static final int PUBLISHED = Quickstart.OK_EVENTS + Quickstart.TRANSIENT_EVENTS
            + Quickstart.RECOVERABLE_EVENTS + Quickstart.PERMANENT_EVENTS + 1;
    /** The permanent failures and the unknown event type; the Redis publisher writes no malformed entry. */
    private static final int DEAD_PER_RUN = Quickstart.PERMANENT_EVENTS + 1;

    private static String quickstart(Map<String, String> env) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = Quickstart.run(env, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        return out;
    }

    @Test
    void runsOnRedisAndLeavesTheStreamAndDeadLettersForAdmin(RedisServer redis) throws Exception {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        String out = quickstart(env);
        assertTrue(out.startsWith("running on Redis at "), out);
        assertTrue(out.contains("stream workflow:events:global"), out);
        assertTrue(out.contains("publishing " + PUBLISHED + " events to"), out);
        assertTrue(out.contains("dead letters (" + DEAD_PER_RUN + "):"), out);
        assertTrue(out.contains("no action registered for event type 'SPACESHIP_LAUNCHED'"), out);
        assertTrue(out.contains("admin dlq list"), out);

        // After the quickstart's JVM-side objects are gone, Redis still has everything.
        try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().build())) {
            assertEquals(DEAD_PER_RUN, admin.deadLetterCount());
            List<RedisDeadLetters.Entry> letters = admin.deadLetters(null, 100);
            assertEquals(Quickstart.PERMANENT_EVENTS, letters.stream()
                    .filter(e -> e.errorCategory().equals("permanent")
                            && e.errorMessage().contains("contract template"))
                    .count(), letters.toString());
            WorkflowAdmin.QueueStats stats = admin.stats();
            assertTrue(stats.length() >= PUBLISHED, stats.toString());
            assertEquals(0, stats.pending(), stats.toString());
        }
        // and the admin command shows them
        ByteArrayOutputStream aout = new ByteArrayOutputStream();
        ByteArrayOutputStream aerr = new ByteArrayOutputStream();
        assertEquals(0, AdminCli.run(List.of("dlq", "list"), env, new PrintStream(aout, true, StandardCharsets.UTF_8),
                new PrintStream(aerr, true, StandardCharsets.UTF_8)), aerr.toString(StandardCharsets.UTF_8));
        String list = aout.toString(StandardCharsets.UTF_8);
        assertTrue(list.startsWith("20 of " + DEAD_PER_RUN + " dead letters"), list);
        assertTrue(list.contains("permanent"), list);

        // A second run reports only its own dead letters and adds to those left in Redis.
        String again = quickstart(env);
        assertTrue(again.contains("dead letters (" + DEAD_PER_RUN + "):"), again);
        try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().build())) {
            assertEquals(2L * DEAD_PER_RUN, admin.deadLetterCount());
        }
    }

    @Test
    void honoursWorkerStream(RedisServer redis) throws Exception {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "quick:stream");
        String out = quickstart(env);
        assertTrue(out.contains("stream quick:stream"), out);
        try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().stream("quick:stream").build())) {
            assertEquals(DEAD_PER_RUN, admin.deadLetterCount());
            assertTrue(admin.stats().length() >= PUBLISHED);
        }
    }
}
