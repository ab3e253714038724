package dev.workflowworker.core.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The recurring schedules of one stream: kept by its transport, fired by whoever owns them there
 * (the partition's owner on Redis), each occurrence published once as
 * {@link Schedule#occurrence(long, long)}. Changes take effect at once for every process sharing the
 * stream. Thread-safe.
 */
public interface Schedules {

    /**
     * Creates a schedule, or replaces the one with the same id. A replaced schedule keeps its
     * counts; if its timing changed (cron or interval, zone, start, end, jitter, gap policy) it
     * goes on from the first occurrence after now, otherwise from where it was.
     *
     * @param schedule the schedule
     * @return the schedule as stored, with its next occurrence
     */
    ScheduleInfo put(Schedule schedule);

    /**
     * Looks a schedule up.
     *
     * @param id a schedule id
     * @return the schedule, or empty if there is none with that id
     */
    Optional<ScheduleInfo> get(String id);

    /** {@return every schedule, by id} */
    List<ScheduleInfo> list();

    /**
     * Stops a schedule firing; its occurrences that come due meanwhile are missed, and handled by
     * its misfire policy when it is resumed.
     *
     * @param id a schedule id
     * @return false if there is no such schedule
     */
    boolean pause(String id);

    /**
     * Lets a paused schedule fire again.
     *
     * @param id a schedule id
     * @return false if there is no such schedule
     */
    boolean resume(String id);

    /**
     * Fires one occurrence now, outside the schedule's times: it counts for neither the run limit
     * nor the overlap policy, and the schedule's next occurrence stays as it was.
     *
     * @param id a schedule id
     * @return the occurrence's event id, or empty if there is no such schedule
     */
    Optional<String> triggerNow(String id);

    /**
     * Deletes a schedule; occurrences already published still run.
     *
     * @param id a schedule id
     * @return false if there was no such schedule
     */
    boolean delete(String id);

    /**
     * Computes when a schedule fires next.
     *
     * @param id a schedule id
     * @param n  how many at most
     * @return the schedule's next {@code n} scheduled instants from its next occurrence on, or
     *     empty if there is no such schedule or it has no more
     */
    List<Instant> nextFireTimes(String id, int n);
}
