package dev.workflowworker.examples;

import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.testsupport.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class AdminCliTest {

    record Result(int code, String out, String err) {
    }

    private static Result cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = AdminCli.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void deadLetterRoundTripsThroughListShowReplayAndIsProcessed(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        AtomicBoolean broken = new AtomicBoolean(true);
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (WorkerService s = WorkerService.builder()
                .transport(RedisEventTransport.create(redis.options().build())).workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .runtime(ActionRuntime.builder().on("INVOICE_DUE", ctx -> {
                    if (broken.get()) {
                        throw new PermanentWorkflowException("customer C-9 has no payment method");
                    }
                    done.add(ctx.event().eventId());
                }).build()).build()) {
            s.start();
            s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-1").build());
            s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-2").build());
            Await.until(Duration.ofSeconds(15), "two dead letters",
                    () -> cli(env, "dlq", "list").out().startsWith("2 of 2 dead letters"));

            Result list = cli(env, "dlq", "list", "--limit", "1");
            assertEquals(0, list.code(), list.err());
            assertTrue(list.out().contains("permanent") && list.out().contains("customer C-9 has no payment method"),
                    list.out());
            assertTrue(list.out().contains("next page: admin dlq list --limit 1 --after "), list.out());
            Matcher m = Pattern.compile("^(\\d+-\\d+) ", Pattern.MULTILINE).matcher(list.out());
            assertTrue(m.find(), list.out());
            String id = m.group(1);

            Result show = cli(env, "dlq", "show", id);
            assertEquals(0, show.code(), show.err());
            assertTrue(show.out().contains("error_message: customer C-9 has no payment method"), show.out());
            assertTrue(show.out().contains("original_message: {"), show.out());
            assertTrue(show.out().contains("worker_id: "), show.out());

            Result stats = cli(env, "stats");
            assertEquals(0, stats.code(), stats.err());
            assertTrue(stats.out().contains("dead letters    2"), stats.out());
            assertTrue(stats.out().contains("pending         0"), stats.out());

            broken.set(false);
            Result replay = cli(env, "dlq", "replay", id);
            assertEquals(0, replay.code(), replay.err());
            Await.until(Duration.ofSeconds(15), "the replayed event to be processed", () -> done.size() == 1);
            Result all = cli(env, "dlq", "replay", "--all", "--rate", "50");
            assertEquals(0, all.code(), all.err());
            assertTrue(all.out().contains("replayed 1 dead letters"), all.out());
            Await.until(Duration.ofSeconds(15), "both processed", () -> done.equals(Set.of("inv-1", "inv-2")));

            Result again = cli(env, "dlq", "replay", id);
            assertEquals(1, again.code());
            assertTrue(again.err().contains("no dead letter " + id), again.err());
            assertEquals(0, cli(env, "dlq", "purge", "--yes").code());
        }
    }

    @Test
    void usageErrorsExitTwoWithAMessage(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        assertUsage(cli(Map.of(), "stats"), "REDIS_URL is not set");
        assertUsage(cli(env), "missing command");
        assertUsage(cli(env, "frobnicate"), "unknown command 'frobnicate'");
        assertUsage(cli(env, "dlq"), "dlq needs a subcommand");
        assertUsage(cli(env, "dlq", "purge"), "confirm with --yes");
        assertUsage(cli(env, "dlq", "list", "--limit", "ten"), "--limit must be a positive integer");
        assertUsage(cli(env, "dlq", "replay", "--from", "1-0"), "needs both --from and --to");
        assertUsage(cli(env, "dlq", "show"), "dlq show needs a dead letter id");
        assertUsage(cli(env, "stats", "extra"), "unexpected argument 'extra'");
        Result missing = cli(env, "dlq", "show", "1-1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no dead letter 1-1"), missing.err());
    }

    private static void assertUsage(Result r, String message) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
        assertTrue(r.err().contains("usage:") || r.err().contains("is invalid"), r.err());
    }
}
