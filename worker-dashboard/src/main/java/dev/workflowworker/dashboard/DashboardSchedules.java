package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import org.slf4j.Logger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.workflowworker.dashboard.Responses.error;
import static dev.workflowworker.dashboard.Responses.ok;

/**
 * The schedules panel: reads the service's {@link Schedules} and its delayed events' count
 * ({@code GET /api/schedules}), and pauses, resumes, triggers and deletes a schedule
 * ({@code POST /api/schedules/...}, after {@link DashboardActions} let the request act).
 */
final class DashboardSchedules {

    /** More rows than a page shows usefully; the SPI lists every schedule, so the rest is counted, not sent. */
    static final int MAX_ROWS = 500;
    private static final String NONE = "this service's transport keeps no schedules";

    /** {@code /api/schedules}: the first {@value #MAX_ROWS} schedules by id, how many there are, and the delayed events waiting. */
    record ScheduleList(List<ScheduleRow> items, int total, Long delayedWaiting) {
    }

    /**
     * One schedule: its timing (its zone only for cron: intervals ignore it), its event type and
     * where it stands; instants as ISO-8601, null when none.
     */
    record ScheduleRow(String id, String timing, String zone, String eventType, String executionId, boolean paused,
                       String nextFire, String lastFire, long fired, long skipped, String misfire, String overlap) {
    }

    /** The answer to pause and resume. */
    record SchedulePaused(String id, boolean paused) {
    }

    /** The answer to trigger: the event the occurrence was published as. */
    record ScheduleTriggered(String id, String eventId) {
    }

    /** The answer to delete. */
    record ScheduleDeleted(String id) {
    }

    private final WorkerService service;

    DashboardSchedules(WorkerService service) {
        this.service = service;
    }

    /** {@return whether the service's transport keeps schedules} */
    boolean available() {
        return service.schedules().isPresent();
    }

    /** {@return the delayed events waiting, or null when the transport cannot delay events} */
    Long delayedWaiting() {
        return service.delayed().map(DelayedEvents::waiting).orElse(null);
    }

    DashboardResponse list() {
        Optional<Schedules> schedules = service.schedules();
        if (schedules.isEmpty()) {
            return error(404, NONE);
        }
        List<ScheduleInfo> all = schedules.get().list();
        List<ScheduleRow> rows = new ArrayList<>(Math.min(all.size(), MAX_ROWS));
        for (ScheduleInfo i : all.subList(0, Math.min(all.size(), MAX_ROWS))) {
            Schedule s = i.schedule();
            rows.add(new ScheduleRow(s.id(), s.cron() != null ? "cron " + s.cron() : "every " + s.interval(),
                    s.cron() != null ? zone(s) : null, s.eventType(), s.executionId(), s.paused(), iso(i.nextFire()), iso(i.lastFire()),
                    i.fired(), i.skipped(), s.misfire().name(), s.overlap().name()));
        }
        return ok(new ScheduleList(rows, all.size(), delayedWaiting()));
    }

    /**
     * Performs {@code schedules/<action>} on the schedule named by the body's {@code id}, once the
     * request was allowed to act.
     *
     * @return the answer; 404 for an unknown schedule or action
     */
    DashboardResponse perform(String action, JsonNode body, String who, Logger audit) {
        Optional<Schedules> found = service.schedules();
        if (found.isEmpty()) {
            return error(404, NONE);
        }
        Schedules schedules = found.get();
        String id = body.path("id").asText("");
        if (id.isBlank()) {
            return error(400, "id must name a schedule");
        }
        switch (action) {
            case "pause", "resume" -> {
                boolean pause = action.equals("pause");
                boolean done = pause ? schedules.pause(id) : schedules.resume(id);
                audit.info("{} {} schedule {}: {}", who, pause ? "paused" : "resumed", id, done ? "done" : "no such schedule");
                return done ? ok(new SchedulePaused(id, pause)) : noSchedule(id);
            }
            case "trigger" -> {
                Optional<String> eventId = schedules.triggerNow(id);
                audit.info("{} triggered schedule {}: {}", who, id, eventId.map(e -> "published " + e)
                        .orElse("no such schedule"));
                return eventId.isPresent() ? ok(new ScheduleTriggered(id, eventId.get())) : noSchedule(id);
            }
            case "delete" -> {
                boolean done = schedules.delete(id);
                audit.info("{} deleted schedule {}: {}", who, id, done ? "done" : "no such schedule");
                return done ? ok(new ScheduleDeleted(id)) : noSchedule(id);
            }
            default -> {
                return error(404, "no such action: schedules/" + action);
            }
        }
    }

    private static DashboardResponse noSchedule(String id) {
        return error(404, "no schedule " + id);
    }

    /** UTC is stored as the offset "Z"; an operator reads "UTC". */
    private static String zone(Schedule s) {
        String id = s.zone().getId();
        return "Z".equals(id) ? "UTC" : id;
    }

    private static String iso(Instant t) {
        return t == null ? null : t.toString();
    }
}
