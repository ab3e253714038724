package dev.workflowworker.examples;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code admin schedules ...} and {@code admin delayed ...} against a real Redis and a running service. */
@ExtendWith(RedisServerExtension.class)
class TimeCliTest {

    private static final int PARTITIONS = 4;
    private static final String STREAM = "timed";
    private static final Duration WAIT = Duration.ofSeconds(20);

    record Result(int code, String out, String err) {
    }

    private static Result cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = AdminCli.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Result ok(Map<String, String> env, String... args) {
        Result r = cli(env, args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
        return r;
    }

    /** A service on the partitioned stream recording every event it handled. */
    private static WorkerService service(RedisServer redis, Queue<WorkflowEvent> handled) {
        WorkerService s = WorkerService.builder()
                .transport(RedisEventTransport.create(redis.options().stream(STREAM).partitions(PARTITIONS).build()))
                .workerCount(1).pollInterval(Duration.ofMillis(50))
                .runtime(ActionRuntime.builder()
                        .on("SYNC", ctx -> handled.add(ctx.event()))
                        .on("SEND_SLA_REPORT", ctx -> handled.add(ctx.event()))
                        .on("ESCALATE", ctx -> handled.add(ctx.event())).build())
                .build();
        s.start();
        return s;
    }

    /** The schedule ids stored in Redis, read from the partitions' hashes themselves. */
    private static List<String> storedScheduleIds(RedisServer redis) {
        try (RedisClient r = redis.client()) {
            List<String> ids = new java.util.ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                ids.addAll(r.hkeys("{" + STREAM + "#" + p + "}:sched"));
            }
            return ids.stream().sorted().toList();
        }
    }

    private static String storedDefinition(RedisServer redis, String id) {
        try (RedisClient r = redis.client()) {
            for (int p = 0; p < PARTITIONS; p++) {
                String json = r.hget("{" + STREAM + "#" + p + "}:sched", id);
                if (json != null) {
                    return json;
                }
            }
            return null;
        }
    }

    private static long delayedWaitingInRedis(RedisServer redis) {
        try (RedisClient r = redis.client()) {
            long n = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                n += r.zcard("{" + STREAM + "#" + p + "}:delayed");
            }
            return n;
        }
    }

    @Test
    void schedulesArePutListedShownPausedResumedTriggeredAndDeleted(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", STREAM);
        Queue<WorkflowEvent> handled = new ConcurrentLinkedQueue<>();
        try (WorkerService service = service(redis, handled)) {
            Schedules schedules = service.schedules().orElseThrow();

            Result put = ok(env, "schedules", "put", "sla-report", "--cron", "0 7 * * 1-5", "--zone", "Europe/Berlin",
                    "--type", "SEND_SLA_REPORT", "--payload", "{\"format\":\"pdf\",\"pages\":3}", "--misfire", "skip",
                    "--overlap", "buffer-one", "--jitter", "30s");
            assertTrue(put.out().startsWith("put schedule sla-report\n"), put.out());
            assertTrue(put.out().contains("timing: cron '0 7 * * 1-5' in Europe/Berlin"), put.out());
            String json = storedDefinition(redis, "sla-report");
            assertTrue(json != null && json.contains("\"zone\":\"Europe/Berlin\"") && json.contains("\"misfire\":\"SKIP\"")
                    && json.contains("\"overlap\":\"BUFFER_ONE\"") && json.contains("\"jitter\":\"PT30S\""), json);
            Schedule stored = schedules.get("sla-report").orElseThrow().schedule();
            assertEquals(Map.of("format", "pdf", "pages", 3), stored.payload());

            // Fires every second from a schedule the CLI made: the running service fires it.
            ok(env, "schedules", "put", "sync", "--every", "PT1S", "--type", "SYNC", "--execution-id", "calendar-sync");
            assertEquals(List.of("sla-report", "sync"), storedScheduleIds(redis));
            Await.until(WAIT, () -> handled.stream().anyMatch(e -> e.eventId().startsWith("sync:")),
                    "an occurrence of sync handled");

            Result list = ok(env, "schedules", "list");
            assertTrue(list.out().startsWith("2 schedules\n"), list.out());
            assertTrue(Pattern.compile("(?m)^sla-report\\s+active\\s+\\S+Z\\s+-\\s+0\\s+0\\s+cron '0 7 \\* \\* 1-5' in "
                    + "Europe/Berlin -> SEND_SLA_REPORT$").matcher(list.out()).find(), list.out());
            assertTrue(Pattern.compile("(?m)^sync\\s+active\\s+\\S+Z\\s+\\S+Z\\s+[1-9]\\d*\\s+\\d+\\s+every PT1S -> SYNC$")
                    .matcher(list.out()).find(), list.out());

            Result next = ok(env, "schedules", "next", "sla-report", "3");
            List<String> lines = next.out().lines().toList();
            assertEquals(3, lines.size(), next.out());
            for (String line : lines) {
                Matcher m = Pattern.compile("^(\\S+Z) {2}\\((\\S+) Europe/Berlin\\)$").matcher(line);
                assertTrue(m.matches(), line);
                ZonedDateTime berlin = Instant.parse(m.group(1)).atZone(ZoneId.of("Europe/Berlin"));
                assertEquals(7, berlin.getHour(), line);
                assertTrue(berlin.getDayOfWeek().compareTo(DayOfWeek.FRIDAY) <= 0, line);
                assertEquals(schedules.nextFireTimes("sla-report", 3).get(lines.indexOf(line)).toString(), m.group(1));
            }

            assertEquals("paused schedule sync\n", ok(env, "schedules", "pause", "sync").out());
            assertTrue(schedules.get("sync").orElseThrow().schedule().paused());
            assertTrue(storedDefinition(redis, "sync").contains("\"paused\":true"));
            assertTrue(ok(env, "schedules", "get", "sync").out().contains("state: paused"));
            long firedWhilePaused = schedules.get("sync").orElseThrow().fired();
            assertEquals("resumed schedule sync\n", ok(env, "schedules", "resume", "sync").out());
            assertFalse(schedules.get("sync").orElseThrow().schedule().paused());
            assertTrue(storedDefinition(redis, "sync").contains("\"paused\":false"));

            Result trigger = ok(env, "schedules", "trigger", "sla-report");
            Matcher t = Pattern.compile("published event (sla-report:trigger:\\S+)").matcher(trigger.out());
            assertTrue(t.find(), trigger.out());
            Await.until(WAIT, () -> handled.stream().anyMatch(e -> e.eventId().equals(t.group(1))),
                    "the triggered occurrence handled");
            ScheduleInfo sla = schedules.get("sla-report").orElseThrow();
            assertEquals(0, sla.fired(), "a trigger is outside the schedule's own count");

            assertEquals("deleted schedule sync\n", ok(env, "schedules", "delete", "sync").out());
            assertEquals(List.of("sla-report"), storedScheduleIds(redis));
            Result gone = cli(env, "schedules", "get", "sync");
            assertEquals(1, gone.code(), gone.out());
            assertTrue(gone.err().contains("no schedule sync"), gone.err());
            for (String sub : List.of("pause", "resume", "trigger", "delete", "next")) {
                Result missing = cli(env, "schedules", sub, "sync");
                assertEquals(1, missing.code(), sub + ": " + missing.out());
                assertTrue(missing.err().contains("no schedule sync"), sub + ": " + missing.err());
            }
            assertTrue(firedWhilePaused >= 1, "sync fired before it was paused");
            Result utc = ok(env, "schedules", "put", "hourly", "--cron", "@hourly", "--type", "SYNC", "--paused");
            assertTrue(utc.out().contains("timing: cron '@hourly' in UTC\nstate: paused\n"), utc.out());
        }
    }

    @Test
    void delayedEventsAreCountedCancelledAndRescheduled(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", STREAM);
        Queue<WorkflowEvent> handled = new ConcurrentLinkedQueue<>();
        try (WorkerService service = service(redis, handled)) {
            DelayedEvents delayed = service.delayed().orElseThrow();
            assertEquals("0 delayed events waiting\n", ok(env, "delayed", "count").out());
            for (String id : List.of("esc-1", "esc-2", "esc-3")) {
                delayed.publishAfter(WorkflowEvent.builder("ESCALATE").eventId(id).executionId("ticket-" + id).build(),
                        Duration.ofHours(4));
            }
            assertEquals("3 delayed events waiting\n", ok(env, "delayed", "count").out());
            assertEquals(3, delayedWaitingInRedis(redis));

            assertEquals("cancelled delayed event esc-1: it never runs\n", ok(env, "delayed", "cancel", "esc-1").out());
            assertEquals(2, delayedWaitingInRedis(redis));
            Result again = cli(env, "delayed", "cancel", "esc-1");
            assertEquals(1, again.code(), again.out());
            assertTrue(again.err().contains("delayed event esc-1 is not waiting"), again.err());

            Instant at = Instant.now().plusMillis(500);
            assertEquals("rescheduled delayed event esc-2 to " + at + "\n",
                    ok(env, "delayed", "reschedule", "esc-2", at.toString()).out());
            Await.until(WAIT, () -> handled.stream().anyMatch(e -> e.eventId().equals("esc-2")), "esc-2 handled");
            Result byDuration = ok(env, "delayed", "reschedule", "esc-3", "1s");
            assertTrue(byDuration.out().startsWith("rescheduled delayed event esc-3 to "), byDuration.out());
            Await.until(WAIT, () -> handled.stream().anyMatch(e -> e.eventId().equals("esc-3")), "esc-3 handled");
            assertEquals(0, delayedWaitingInRedis(redis));
            assertEquals("0 delayed events waiting\n", ok(env, "delayed", "count").out());
            assertEquals(1, cli(env, "delayed", "reschedule", "esc-3", "PT1M").code(), "esc-3 ran already");
            assertFalse(handled.stream().anyMatch(e -> e.eventId().equals("esc-1")), "the cancelled one ran");
        }
    }

    @Test
    void badArgumentsAreUsageErrorsNamingTheArgumentAndTouchNothing(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", STREAM);
        String[] put = {"schedules", "put", "s1", "--type", "T"};
        assertUsage(cli(env, "schedules"), "schedules needs a subcommand");
        assertUsage(cli(env, "schedules", "frob"), "unknown schedules subcommand 'frob'");
        assertUsage(cli(env, "schedules", "get"), "schedules get needs a schedule id");
        assertUsage(cli(env, "schedules", "put", "s1", "--type", "T"), "needs --cron EXPR or --every DURATION");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--every", "1m")), "--cron and --every exclude each other");
        assertUsage(cli(env, "schedules", "put", "s1", "--every", "1m"), "needs --type");
        assertUsage(cli(env, with(put, "--every", "often")), "--every must be a duration");
        assertUsage(cli(env, with(put, "--every", "500ms")), "interval must be at least PT1S");
        assertUsage(cli(env, with(put, "--cron", "61 * * * *")), "cron '61 * * * *'");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--zone", "Mars/Olympus")), "--zone 'Mars/Olympus' is not");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--misfire", "sometimes")),
                "--misfire must be one of fire-once, fire-all, skip, got 'sometimes'");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--overlap", "queue")),
                "--overlap must be one of skip, buffer-one, allow");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--payload", "[1,2]")), "--payload must be a JSON object");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--start", "tomorrow")), "--start must be an instant");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--limit", "-3")), "--limit must be an integer");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--jitter")), "--jitter needs a value");
        assertUsage(cli(env, with(put, "--cron", "@daily", "--colour", "red")), "unexpected argument '--colour'");
        assertUsage(cli(env, "schedules", "put", "bad id!", "--every", "1m", "--type", "T"), "schedule id 'bad id!'");
        assertUsage(cli(env, "schedules", "next", "s1", "0"), "N must be an integer from 1 to 1000, got '0'");
        assertUsage(cli(env, "delayed"), "delayed needs a subcommand");
        assertUsage(cli(env, "delayed", "cancel"), "delayed cancel needs an event id");
        assertUsage(cli(env, "delayed", "reschedule", "e1"), "delayed reschedule needs WHEN");
        assertUsage(cli(env, "delayed", "reschedule", "e1", "next week"), "WHEN must be an instant");
        assertUsage(cli(env, "delayed", "count", "now"), "unexpected argument 'now'");
        try (RedisClient r = redis.client()) {
            assertTrue(r.keys("*").isEmpty(), "a usage error wrote to Redis: " + r.keys("*"));
        }

        // A shared stream keeps both too: the tool opens it in its own mode.
        try (RedisEventTransport shared = RedisEventTransport.create(redis.options().stream("flat").partitions(0).build())) {
            shared.publish(WorkflowEvent.builder("T").build());
        }
        Map<String, String> flat = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "flat");
        ok(flat, "schedules", "put", "flat-1", "--every", "1h", "--type", "T");
        Result onShared = ok(flat, "schedules", "list");
        assertTrue(onShared.out().contains("flat-1"), onShared.out());
        try (RedisEventTransport shared = RedisEventTransport.create(redis.options().stream("flat").partitions(0).build())) {
            assertEquals(List.of("flat-1"), shared.schedules().orElseThrow().list().stream()
                    .map(i -> i.schedule().id()).toList(), "written where the shared stream keeps its schedules");
        }
    }

    private static String[] with(String[] base, String... more) {
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    private static void assertUsage(Result r, String message) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), "wanted '" + message + "' in: " + r.err());
    }
}
