package dev.workflowworker.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.examples.AdminCli.UsageException;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code admin schedules ...} and {@code admin delayed ...}: the recurring schedules and the
 * delayed events of a partitioned stream, through the transport's {@link Schedules} and
 * {@link DelayedEvents}. Arguments are checked before Redis is touched, so a typo costs nothing.
 *
 * <p>{@link WorkflowAdmin} has no view of either, so the commands open the stream as a producer
 * does ({@link RedisEventTransport#create}): with the partition count the stream recorded, and,
 * for a stream that does not exist yet, creating its layout as publishing to it would. Such a
 * transport opens no consumer, so it never takes a partition and never fires a schedule.
 */
final class TimeCli {

    static final String USAGE = String.join("\n",
            "  schedules list                        every schedule: state, next and last fire, fired and skipped",
            "  schedules get ID                      one schedule's definition and state",
            "  schedules put ID (--cron EXPR | --every DURATION) --type TYPE [--zone ZONE] [--execution-id E]",
            "                [--tenant T] [--name N] [--payload JSON] [--start INSTANT] [--end INSTANT] [--limit N]",
            "                [--jitter DURATION] [--misfire fire-once|fire-all|skip] [--misfire-threshold DURATION]",
            "                [--catch-up-window DURATION] [--overlap allow|skip|buffer-one] [--gap shift|skip] [--paused]",
            "                                        create or replace (options left out take their defaults)",
            "  schedules pause ID | resume ID | delete ID",
            "  schedules trigger ID                  fire one occurrence now, outside the schedule's times",
            "  schedules next ID [N]                 the next N fire times (default 5, at most 1000)",
            "  delayed count                         delayed events waiting for their due time",
            "  delayed cancel EVENT_ID               a waiting event never runs",
            "  delayed reschedule EVENT_ID WHEN      WHEN: an instant (2026-12-24T08:00:00Z) or a duration from",
            "                                        now on this machine's clock (PT10M, 90s, 5m, 2h, 1d)",
            "  DURATION: ISO-8601 (PT10S) or 500ms, 10s, 5m, 2h, 1d; schedules and delayed events need a",
            "  partitioned stream");

    private static final int MAX_NEXT = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a command does once the transport is open; its exit code. */
    private interface Action {
        int run(RedisEventTransport transport, PrintStream out, PrintStream err);
    }

    private TimeCli() {
    }

    /**
     * Runs {@code schedules ...} or {@code delayed ...}.
     *
     * @param command {@code schedules} or {@code delayed}
     * @param a       the arguments after it, consumed
     */
    static int run(String command, WorkflowAdmin admin, RedisOptions options, List<String> a, PrintStream out,
                   PrintStream err) throws UsageException {
        Action action = "schedules".equals(command) ? schedules(a) : delayed(a);
        int partitions = admin.partitions();
        try (RedisEventTransport transport = RedisEventTransport.create(options.toBuilder().partitions(partitions)
                .build())) {
            if (transport.schedules().isEmpty()) {
                err.printf("admin: stream %s keeps no schedules and no delayed events: a shared stream on a Redis "
                        + "Cluster whose name has a '}' and no hash tag has no key in its slot for them%n", options.stream());
                return 1;
            }
            return action.run(transport, out, err);
        }
    }

    // ---- schedules ----

    private static Action schedules(List<String> a) throws UsageException {
        if (a.isEmpty()) {
            throw new UsageException("schedules needs a subcommand: list, get, put, pause, resume, trigger, delete "
                    + "or next");
        }
        String sub = a.remove(0);
        switch (sub) {
            case "list" -> {
                AdminCli.noMore(a);
                return (t, out, err) -> list(schedulesOf(t), out);
            }
            case "get" -> {
                String id = AdminCli.positional(a, "schedules get needs a schedule id");
                AdminCli.noMore(a);
                return (t, out, err) -> {
                    Optional<ScheduleInfo> info = schedulesOf(t).get(id);
                    if (info.isEmpty()) {
                        return noSchedule(id, err);
                    }
                    show(info.get(), out);
                    return 0;
                };
            }
            case "put" -> {
                Schedule s = parsePut(a);
                return (t, out, err) -> {
                    ScheduleInfo stored = schedulesOf(t).put(s);
                    out.printf("put schedule %s%n", s.id());
                    show(stored, out);
                    return 0;
                };
            }
            case "pause", "resume", "delete" -> {
                String id = AdminCli.positional(a, "schedules " + sub + " needs a schedule id");
                AdminCli.noMore(a);
                return (t, out, err) -> {
                    Schedules s = schedulesOf(t);
                    boolean found = switch (sub) {
                        case "pause" -> s.pause(id);
                        case "resume" -> s.resume(id);
                        default -> s.delete(id);
                    };
                    if (!found) {
                        return noSchedule(id, err);
                    }
                    out.printf("%s schedule %s%n", sub.equals("pause") ? "paused" : sub + "d", id);
                    return 0;
                };
            }
            case "trigger" -> {
                String id = AdminCli.positional(a, "schedules trigger needs a schedule id");
                AdminCli.noMore(a);
                return (t, out, err) -> {
                    Optional<String> eventId = schedulesOf(t).triggerNow(id);
                    if (eventId.isEmpty()) {
                        return noSchedule(id, err);
                    }
                    out.printf("triggered schedule %s: published event %s%n", id, eventId.get());
                    return 0;
                };
            }
            case "next" -> {
                String id = AdminCli.positional(a, "schedules next needs a schedule id");
                int n = 5;
                if (!a.isEmpty()) {
                    String v = a.remove(0);
                    n = TimeArgs.count("N", v, MAX_NEXT);
                }
                AdminCli.noMore(a);
                int count = n;
                return (t, out, err) -> next(schedulesOf(t), id, count, out, err);
            }
            default -> throw new UsageException("unknown schedules subcommand '" + sub + "'");
        }
    }

    private static Schedules schedulesOf(RedisEventTransport t) {
        // Both modes keep schedules; only a shared stream on a cluster whose name leaves no key in its slot does not.
        return t.schedules().orElseThrow(() -> new IllegalStateException("the transport keeps no schedules"));
    }

    private static int noSchedule(String id, PrintStream err) {
        err.println("admin: no schedule " + id);
        return 1;
    }

    private static int list(Schedules schedules, PrintStream out) {
        List<ScheduleInfo> all = schedules.list();
        out.printf("%d schedule%s%n", all.size(), all.size() == 1 ? "" : "s");
        if (all.isEmpty()) {
            return 0;
        }
        out.printf("%-24s %-7s %-24s %-24s %7s %7s  %s%n", "ID", "STATE", "NEXT FIRE", "LAST FIRE", "FIRED", "SKIPPED",
                "TIMING / EVENT TYPE");
        for (ScheduleInfo i : all) {
            Schedule s = i.schedule();
            out.printf("%-24s %-7s %-24s %-24s %7d %7d  %s -> %s%n", s.id(), s.paused() ? "paused" : "active",
                    orDash(i.nextFire()), orDash(i.lastFire()), i.fired(), i.skipped(), timing(s), s.eventType());
        }
        return 0;
    }

    private static void show(ScheduleInfo i, PrintStream out) {
        Schedule s = i.schedule();
        out.printf("id: %s%n", s.id());
        out.printf("timing: %s%n", timing(s));
        out.printf("state: %s%n", s.paused() ? "paused" : "active");
        out.printf("next fire: %s%n", zoned(i.nextFire(), s.zone()));
        out.printf("last fire: %s%n", zoned(i.lastFire(), s.zone()));
        out.printf("fired: %d%n", i.fired());
        out.printf("skipped: %d%n", i.skipped());
        out.printf("event type: %s%n", s.eventType());
        out.printf("event name: %s%n", orDash(s.eventName()));
        out.printf("execution id: %s%n", orDash(s.executionId()));
        out.printf("tenant: %s%n", orDash(s.tenant()));
        out.printf("payload: %s%n", json(s.payload()));
        out.printf("start: %s%n", orDash(s.start()));
        out.printf("end: %s%n", orDash(s.end()));
        out.printf("limit: %s%n", s.limit() == 0 ? "none" : Long.toString(s.limit()));
        out.printf("jitter: %s%n", s.jitter());
        out.printf("misfire: %s (threshold %s, catch-up window %s)%n", TimeArgs.option(s.misfire()), s.misfireThreshold(),
                s.catchUpWindow());
        out.printf("overlap: %s%n", TimeArgs.option(s.overlap()));
        out.printf("gap: %s%n", TimeArgs.option(s.gap()));
    }

    private static int next(Schedules schedules, String id, int n, PrintStream out, PrintStream err) {
        Optional<ScheduleInfo> info = schedules.get(id);
        if (info.isEmpty()) {
            return noSchedule(id, err);
        }
        List<Instant> times = schedules.nextFireTimes(id, n);
        ZoneId zone = info.get().schedule().zone();
        if (times.isEmpty()) {
            out.printf("schedule %s fires no more%s%n", id, info.get().schedule().paused() ? " (paused)" : "");
            return 0;
        }
        for (Instant t : times) {
            out.println(zoned(t, zone));
        }
        return 0;
    }

    private static Schedule parsePut(List<String> a) throws UsageException {
        String id = AdminCli.positional(a, "schedules put needs a schedule id");
        String cron = AdminCli.option(a, "--cron");
        String every = AdminCli.option(a, "--every");
        if (cron != null && every != null) {
            throw new UsageException("--cron and --every exclude each other: give one");
        }
        if (cron == null && every == null) {
            throw new UsageException("schedules put needs --cron EXPR or --every DURATION");
        }
        String type = AdminCli.option(a, "--type");
        if (type == null || type.isBlank()) {
            throw new UsageException("schedules put needs --type (the event type each occurrence publishes)");
        }
        Schedule.Builder b = cron != null ? Schedule.cron(id, cron)
                : Schedule.every(id, TimeArgs.duration("--every", every));
        b.eventType(type);
        String zone = AdminCli.option(a, "--zone");
        if (zone != null) {
            try {
                b.zone(ZoneId.of(zone));
            } catch (RuntimeException e) {
                throw new UsageException("--zone '" + zone + "' is not a time zone (an IANA id such as Europe/Berlin)");
            }
        }
        b.executionId(AdminCli.option(a, "--execution-id"));
        b.tenant(AdminCli.option(a, "--tenant"));
        b.eventName(AdminCli.option(a, "--name"));
        String payload = AdminCli.option(a, "--payload");
        if (payload != null) {
            b.payload(TimeArgs.payload(payload));
        }
        String start = AdminCli.option(a, "--start");
        if (start != null) {
            b.start(TimeArgs.instant("--start", start));
        }
        String end = AdminCli.option(a, "--end");
        if (end != null) {
            b.end(TimeArgs.instant("--end", end));
        }
        String limit = AdminCli.option(a, "--limit");
        if (limit != null) {
            b.limit(TimeArgs.count("--limit", limit, Integer.MAX_VALUE));
        }
        String jitter = AdminCli.option(a, "--jitter");
        if (jitter != null) {
            b.jitter(TimeArgs.duration("--jitter", jitter));
        }
        String misfire = AdminCli.option(a, "--misfire");
        if (misfire != null) {
            b.misfire(TimeArgs.choice("--misfire", misfire, Schedule.Misfire.class));
        }
        String threshold = AdminCli.option(a, "--misfire-threshold");
        if (threshold != null) {
            b.misfireThreshold(TimeArgs.duration("--misfire-threshold", threshold));
        }
        String window = AdminCli.option(a, "--catch-up-window");
        if (window != null) {
            b.catchUpWindow(TimeArgs.duration("--catch-up-window", window));
        }
        String overlap = AdminCli.option(a, "--overlap");
        if (overlap != null) {
            b.overlap(TimeArgs.choice("--overlap", overlap, Schedule.Overlap.class));
        }
        String gap = AdminCli.option(a, "--gap");
        if (gap != null) {
            b.gap(TimeArgs.choice("--gap", gap, Schedule.Gap.class));
        }
        b.paused(a.remove("--paused"));
        AdminCli.noMore(a);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // The builder names the setting ("schedule 'x': cron '...' ..."); the flag is its namesake.
            throw new UsageException(e.getMessage());
        }
    }

    // ---- delayed events ----

    private static Action delayed(List<String> a) throws UsageException {
        if (a.isEmpty()) {
            throw new UsageException("delayed needs a subcommand: count, cancel or reschedule");
        }
        String sub = a.remove(0);
        switch (sub) {
            case "count" -> {
                AdminCli.noMore(a);
                return (t, out, err) -> {
                    long n = delayedOf(t).waiting();
                    out.printf("%d delayed event%s waiting%n", n, n == 1 ? "" : "s");
                    return 0;
                };
            }
            case "cancel" -> {
                String id = AdminCli.positional(a, "delayed cancel needs an event id");
                AdminCli.noMore(a);
                return (t, out, err) -> {
                    if (!delayedOf(t).cancel(id)) {
                        return notWaiting(id, err);
                    }
                    out.printf("cancelled delayed event %s: it never runs%n", id);
                    return 0;
                };
            }
            case "reschedule" -> {
                String id = AdminCli.positional(a, "delayed reschedule needs an event id");
                if (a.isEmpty()) {
                    throw new UsageException("delayed reschedule needs WHEN: an instant or a duration from now");
                }
                String when = a.remove(0);
                AdminCli.noMore(a);
                Instant at = TimeArgs.when(when);
                return (t, out, err) -> {
                    if (!delayedOf(t).reschedule(id, at)) {
                        return notWaiting(id, err);
                    }
                    out.printf("rescheduled delayed event %s to %s%n", id, at);
                    return 0;
                };
            }
            default -> throw new UsageException("unknown delayed subcommand '" + sub + "'");
        }
    }

    private static DelayedEvents delayedOf(RedisEventTransport t) {
        return t.delayed().orElseThrow(() -> new IllegalStateException("the transport keeps no delayed events"));
    }

    private static int notWaiting(String id, PrintStream err) {
        err.println("admin: delayed event " + id + " is not waiting (already due and in the stream, or unknown)");
        return 1;
    }

    private static String json(Map<String, Object> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            return m.toString();
        }
    }

    private static String timing(Schedule s) {
        // UTC is stored as the offset "Z"; an operator reads "UTC".
        String zone = "Z".equals(s.zone().getId()) ? "UTC" : s.zone().getId();
        return s.cron() != null ? "cron '" + s.cron() + "' in " + zone : "every " + s.interval();
    }

    /** The instant, and the same moment in the schedule's zone when that is not UTC: how cron times read. */
    private static String zoned(Instant t, ZoneId zone) {
        if (t == null) {
            return "-";
        }
        return zone.normalized().equals(java.time.ZoneOffset.UTC) ? t.toString()
                : t + "  (" + t.atZone(zone).toOffsetDateTime() + " " + zone.getId() + ")";
    }

    private static String orDash(Object v) {
        return v == null ? "-" : v.toString();
    }
}
